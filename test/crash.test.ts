import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';

describe('a worker killed under load', () => {
  it('is replaced, and the server keeps answering', async () => {
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const ready = bicorn.lines.filter((l) => l.msg === 'worker ready');
    const victim = bicorn.workerPid();

    // Light load: a few requests at a time on fresh connections, around the kill.
    const control = { stop: false };
    const failures: unknown[] = [];
    let answered = 0;
    const load = (async () => {
      while (!control.stop) {
        const results = await Promise.allSettled([get(`${url}/`), get(`${url}/`)]);
        for (const r of results) {
          if (r.status === 'fulfilled' && r.value.status === 200) answered++;
          else failures.push(r.status === 'rejected' ? r.reason : r.value.status);
        }
      }
    })();

    process.kill(victim, 'SIGKILL');
    const died = await bicorn.waitForLog('the death to be logged', (l) => l.msg === 'worker died');
    expect(died).toMatchObject({ level: 50, signal: 'SIGKILL', hint: 'killed: out of memory?' });
    await bicorn.waitForLog('a replacement worker', (l) => l.msg === 'worker ready' && l.workerPid !== victim && !ready.includes(l));
    control.stop = true;
    await load;

    // Only requests already on the killed worker may fail; the rest were answered.
    expect(answered).toBeGreaterThan(0);
    expect(failures.length).toBeLessThanOrEqual(4);
    const after = await Promise.all(Array.from({ length: 10 }, () => get(`${url}/`)));
    expect(after.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect((await bicorn.stop()).code).toBe(0);
  });
});

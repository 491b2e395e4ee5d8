import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, type LogLine } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { startLoad } from './support/load.js';
import { hasPython, servePython } from './support/python.js';

const recycled = (reason: string) => (l: LogLine) => l.msg === 'worker stopped' && l.reason === `recycled (${reason})`;

describe('recycling', () => {
  it('replaces workers after max_requests under load without losing a request', async () => {
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', '--max-requests', '40', '--max-requests-jitter', '10', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const load = startLoad(`${url}/`, { concurrency: 6 });
    // Three workers replaced, each after its replacement was ready.
    await bicorn.waitForLog('a third recycled worker', () => bicorn.lines.filter(recycled('max-requests')).length >= 3);
    const result = await load.stop();
    expect(result.errors).toEqual({});
    expect(result.failedStatuses).toEqual({});
    expect(result.bodies.size).toBeGreaterThanOrEqual(4);
    const asked = bicorn.lines.find((l) => l.msg === 'asking the master for a replacement');
    expect(asked?.detail).toMatch(/^served (4\d|50) requests$/);
    expect(bicorn.lines.filter((l) => l.msg === 'worker died')).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)('replaces Python workers after max_requests under load without losing a request', async () => {
    const bicorn = servePython('hello_wsgi:application', ['-w', '2', '--max-requests', '60']);
    const url = await bicorn.listening();
    const load = startLoad(`${url}/`, { concurrency: 6 });
    await bicorn.waitForLog('a second recycled worker', () => bicorn.lines.filter(recycled('max-requests')).length >= 2);
    const result = await load.stop();
    expect(result.errors).toEqual({});
    expect(result.failedStatuses).toEqual({});
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('replaces a worker that has run max_worker_lifetime', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--max-worker-lifetime', '0.5', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const first = (await get(`${url}/`)).body;
    await bicorn.waitForLog('the lifetime recycling', recycled('max-lifetime'));
    expect((await get(`${url}/`)).body).not.toBe(first);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('replaces a worker whose JavaScript app grows past max_rss', async () => {
    // Any node process is over 1 MiB, so the first check recycles.
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--max-rss', '1', fixture('apps/fetch.mjs')]);
    await bicorn.listening();
    const asked = await bicorn.waitForLog('the memory check', (l) => l.msg === 'asking the master for a replacement');
    expect(asked).toMatchObject({ reason: 'max-rss' });
    expect(asked.detail).toMatch(/^the app process has \d+ MiB resident, more than max_rss 1 MiB$/);
    await bicorn.waitForLog('the replacement', recycled('max-rss'));
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)("measures a Python app's own process for max_rss", async () => {
    const bicorn = servePython('hello_wsgi:application', ['--max-rss', '1']);
    await bicorn.listening();
    await bicorn.waitForLog('the replacement', recycled('max-rss'));
    const asked = bicorn.lines.find((l) => l.msg === 'asking the master for a replacement');
    // A Python interpreter with a tiny app is a few MiB, far below a node worker.
    const mib = Number(/has (\d+) MiB/.exec(String(asked?.detail))?.[1]);
    expect(mib).toBeLessThan(40);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, type LogLine } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { startLoad } from './support/load.js';
import { hasPython, noPython, pythonFixtures, servePython } from './support/python.js';

const recycled = (reason: string) => (l: LogLine) => l.msg === 'worker stopped' && l.reason === `recycled (${reason})`;

const apps = [
  { name: 'a JavaScript app', args: [fixture('apps/fetch.mjs')], maxRequests: 40, jitter: 10, recycles: 3, python: false },
  { name: 'a Python WSGI app', args: ['--chdir', pythonFixtures, 'hello_wsgi:application'], maxRequests: 60, jitter: 0, recycles: 2, python: true },
];

describe.each(apps)('max_requests under load, for $name', ({ args, maxRequests, jitter, recycles, python }) => {
  it.skipIf(python && !hasPython)(`replaces workers without losing a request${python ? noPython : ''}`, async () => {
    const limits = ['--max-requests', String(maxRequests), '--max-requests-jitter', String(jitter)];
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', ...limits, ...args]);
    const url = await bicorn.listening();
    const load = startLoad(`${url}/`, { concurrency: 6 });
    // Workers replaced, each after its replacement was ready.
    await bicorn.waitForLog(`${String(recycles)} recycled workers`, () => bicorn.lines.filter(recycled('max-requests')).length >= recycles);
    const result = await load.stop();
    expect(result.errors).toEqual({});
    expect(result.failedStatuses).toEqual({});
    // The recycled workers and at least one replacement answered.
    expect(result.bodies.size).toBeGreaterThanOrEqual(recycles + 1);
    const asked = bicorn.lines.find((l) => l.msg === 'asking the master for a replacement');
    const served = Number(/^served (\d+) requests$/.exec(String(asked?.detail))?.[1]);
    expect(served).toBeGreaterThanOrEqual(maxRequests);
    expect(served).toBeLessThanOrEqual(maxRequests + jitter);
    expect(bicorn.lines.filter((l) => l.msg === 'worker died')).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('recycling', () => {
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

  it.skipIf(!hasPython)(`measures a Python app's own process for max_rss${noPython}`, async () => {
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

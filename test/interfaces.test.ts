import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { distinctAnswers, get } from './support/http.js';

describe('serving JavaScript apps with two workers', () => {
  it.each([
    ['asgi', 'apps/asgi.mjs'],
    ['fetch', 'apps/fetch.mjs'],
    ['node', 'apps/node.mjs:app'],
  ])('serves a %s app from both workers', async (appInterface, app) => {
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', fixture(app)]);
    const url = await bicorn.listening();
    const answers = await distinctAnswers(`${url}/`, 2);
    expect([...answers].every((body) => body.startsWith(`${appInterface} `))).toBe(true);
    expect(answers.size).toBe(2);
    const ready = bicorn.lines.filter((l) => l.msg === 'worker ready');
    expect(ready.map((l) => l.interface)).toEqual([appInterface, appInterface]);
    expect(await bicorn.stop()).toEqual({ code: 0, signal: null });
  });

  it('honours --interface over detection', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--interface', 'node', fixture('apps/node.mjs:app')]);
    await bicorn.listening();
    expect(bicorn.lines.find((l) => l.msg === 'worker ready')?.interface).toBe('node');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('the access log', () => {
  it('writes one line per request with remote address, method, path, status, bytes and duration', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--access-logfile', '-', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    expect((await get(`${url}/hello?x=1`)).status).toBe(200);
    const line = await bicorn.waitForLog('the access line', (l) => l.msg === 'access');
    expect(line).toMatchObject({ role: 'worker', worker: 1, method: 'GET', path: '/hello?x=1', http: '1.1', status: 200 });
    expect(line.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(line.bytes).toBeGreaterThan(0);
    expect(line.ms).toBeGreaterThanOrEqual(0);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

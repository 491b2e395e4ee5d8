import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { Agent, get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { hasPython, servePython } from './support/python.js';

describe('stopping', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s lets a 1-second request finish with 200, then exits 0', async (signal) => {
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const slow = get(`${url}/slow?ms=1000`);
    await bicorn.waitForLog('the slow request to start', (l) => l.msg === 'slow request started');
    bicorn.signal(signal);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(await bicorn.exited).toEqual({ code: 0, signal: null });
    expect(bicorn.lines.some((l) => l.msg === 'stopping' && l.signal === signal)).toBe(true);
  });

  it('closes idle keep-alive connections instead of waiting for them', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--keep-alive', '60', '--graceful-timeout', '60', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const agent = new Agent({ keepAlive: true });
    expect((await get(`${url}/`, agent)).status).toBe(200);
    const { code } = await bicorn.stop();
    agent.destroy();
    expect(code).toBe(0);
  });

  it('stops at once on a second SIGINT', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--graceful-timeout', '60', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const slow = get(`${url}/slow?ms=60000`).catch((error: unknown) => error);
    await bicorn.waitForLog('the slow request to start', (l) => l.msg === 'slow request started');
    bicorn.signal('SIGINT');
    await bicorn.waitForLog('the stop to begin', (l) => l.msg === 'stopping');
    bicorn.signal('SIGINT');
    expect(await bicorn.exited).toEqual({ code: 0, signal: null });
    expect(await slow).toBeInstanceOf(Error);
  });

  it.skipIf(!hasPython)('on a second SIGINT kills each Python process once, saying it was a fast stop', async () => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '2']);
    const url = await bicorn.listening();
    const stuck = [get(`${url}/hang`).catch((error: unknown) => error), get(`${url}/hang`).catch((error: unknown) => error)];
    await pollUntil('both apps to have their request', () => (bicorn.lines.filter((l) => l.msg.startsWith('started /hang')).length === 2 ? true : undefined));
    bicorn.signal('SIGINT');
    await bicorn.waitForLog('the stop to begin', (l) => l.msg === 'stopping');
    bicorn.signal('SIGINT');
    expect(await bicorn.exited).toEqual({ code: 0, signal: null });
    await Promise.all(stuck);
    const kills = bicorn.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('python process'));
    expect(kills.map((l) => [l.msg, l.level])).toEqual([
      ['python process killed: a fast stop', 30],
      ['python process killed: a fast stop', 30],
    ]);
  });
});

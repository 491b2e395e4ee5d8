import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';

const APP = fixture('apps/asgi-full.mjs');

describe('the lifespan of a JavaScript ASGI app', () => {
  it('completes startup before serving, gives its state to every request, and shuts down on stop', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP]);
    const url = await bicorn.listening();
    const first = JSON.parse((await get(`${url}/scope`)).body) as { state: unknown };
    expect(first.state).toEqual({ db: 'connected' });
    expect(await bicorn.stop()).toEqual({ code: 0, signal: null });
    const shutdown = bicorn.lines.findIndex((l) => l.msg === 'fixture lifespan shutdown');
    expect(shutdown).toBeGreaterThan(-1);
  });

  it('stops with exit 3 and the app\'s message when the startup fails', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { env: { FIXTURE_LIFESPAN: 'fail' } });
    const { code } = await bicorn.exited;
    expect(code).toBe(3);
    expect(bicorn.stderr + bicorn.stdout).toContain('ASGI lifespan startup failed: database unreachable');
  });

  it('serves an app that raises on the lifespan scope without it, with one info line, under --lifespan auto', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { env: { FIXTURE_LIFESPAN: 'unsupported' } });
    const url = await bicorn.listening();
    const answer = JSON.parse((await get(`${url}/scope`)).body) as { state: unknown };
    expect(answer.state).toBeNull();
    const lines = bicorn.lines.filter((l) => l.msg.startsWith('ASGI lifespan unsupported'));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe(30);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('serves an app that raises after taking lifespan.startup, having sent no lifespan event, without it under --lifespan auto', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { env: { FIXTURE_LIFESPAN: 'unsupported-late' } });
    const url = await bicorn.listening();
    expect(JSON.parse((await get(`${url}/scope`)).body)).toMatchObject({ state: null });
    const lines = bicorn.lines.filter((l) => l.msg.startsWith('ASGI lifespan unsupported'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, reason: 'Error: unexpected event lifespan.startup' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('refuses to boot an app that raises after sending a lifespan event, even under --lifespan auto (exit 3)', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { env: { FIXTURE_LIFESPAN: 'broken' } });
    const { code } = await bicorn.exited;
    expect(code).toBe(3);
    expect(bicorn.stderr + bicorn.stdout).toContain('unknown lifespan event type the string "lifespan.startup.completed"');
    expect(bicorn.stderr).toMatch(/at lifespan \(.*asgi-full\.mjs/);
  });

  it('refuses to boot such an app under --lifespan on (exit 3)', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--lifespan', 'on', APP], { env: { FIXTURE_LIFESPAN: 'unsupported' } });
    const { code } = await bicorn.exited;
    expect(code).toBe(3);
    expect(bicorn.stderr + bicorn.stdout).toContain('this app has no lifespan');
  });

  it('sends no lifespan events under --lifespan off', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--lifespan', 'off', APP], { env: { FIXTURE_LIFESPAN: 'fail' } });
    const url = await bicorn.listening();
    expect(JSON.parse((await get(`${url}/scope`)).body)).toMatchObject({ state: null });
    expect((await bicorn.stop()).code).toBe(0);
  });
});

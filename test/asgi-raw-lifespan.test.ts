// End-to-end checks of ASGI lifespan for Python apps: startup before traffic, state in every
// scope, shutdown on stop, --lifespan auto|on|off, and apps whose startup fails or that do not
// support lifespan (test/fixtures/python/raw_asgi.py, lifespan_fails.py, no_lifespan.py).
import { describe, expect, it } from 'vitest';
import { runBicorn } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { hasPython, noPython, pythonFixtures, servePython } from './support/python.js';
import { serveRaw } from './support/raw-asgi.js';

describe.skipIf(!hasPython)(`ASGI lifespan for Python apps${noPython}`, () => {
  it('runs startup before taking traffic, gives each request a shallow copy of the state, and runs shutdown on stop', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    // The first request, at once: startup had completed (it sets the state after a delay).
    expect(JSON.parse((await get(`${url}/state`)).body)).toEqual({ greeting: 'hello from lifespan', hits: 0 });
    // The request's own change to the state stayed in its copy; the shared list did not.
    expect(JSON.parse((await get(`${url}/state`)).body)).toEqual({ greeting: 'hello from lifespan', hits: 1 });
    expect(JSON.parse((await get(`${url}/scope`)).body)).toMatchObject({ state: ['greeting', 'hits'] });
    expect((await bicorn.stop()).code).toBe(0);
    const said = bicorn.lines.filter((l) => l.stream === 'stdout').map((l) => l.msg);
    expect(said).toEqual(['raw_asgi: lifespan startup complete', 'raw_asgi: lifespan shutdown complete after 2 hits']);
  });

  it('sends no lifespan events with --lifespan off', async () => {
    const bicorn = serveRaw(['--lifespan', 'off']);
    const url = await bicorn.listening();
    const state = JSON.parse((await get(`${url}/state`)).body) as unknown;
    // No state at all, or one that no startup filled.
    if (state !== null) expect(state).toEqual({ greeting: null, hits: 0 });
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.stream === 'stdout')).toEqual([]);
  });

  it('does not boot an app whose startup fails: exit 3 with the app\'s message', async () => {
    const result = await runBicorn(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, 'lifespan_fails:app']);
    expect(result.code).toBe(3);
    expect(result.stdout + result.stderr).toContain('lifespan_fails: the database at db.invalid:5432 is unreachable');
  });

  it('serves an app without lifespan support under --lifespan auto with one info line, and refuses it under --lifespan on', async () => {
    const bicorn = servePython('no_lifespan:app');
    const url = await bicorn.listening();
    expect(await get(`${url}/`)).toMatchObject({ status: 200 });
    expect((await bicorn.stop()).code).toBe(0);
    const mentions = bicorn.lines.filter((l) => /lifespan/i.test(l.msg));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]?.level).toBe(30);

    const on = await runBicorn(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, '--lifespan', 'on', 'no_lifespan:app']);
    expect(on.code).toBe(3);
    expect(on.stdout + on.stderr).toContain('no_lifespan only serves HTTP');
  });
});

// A Starlette app (test/fixtures/starlette_app) served by bicorn as an ASGI app: routes, JSON,
// a streamed response, background tasks, a WebSocket endpoint and lifespan state.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, repoRoot, isRootWarning } from './support/bicorn-process.js';
import { get, post } from './support/http.js';
import { openWs, wsUrl } from './support/websocket.js';

// The pinned Starlette lives in the repo's virtualenv, made by `pnpm python:setup`.
const python = join(repoRoot, '.venv', 'bin', 'python');
const hasStarlette = spawnSync(python, ['-c', 'import starlette']).status === 0;
const suite = hasStarlette ? 'a Starlette app served by bicorn' : 'a Starlette app served by bicorn (skipped: no Starlette in .venv; run `pnpm python:setup`)';

function serve(extra: string[] = []): BicornProcess {
  return new BicornProcess(['-b', '127.0.0.1:0', '--python', python, '--chdir', fixture('starlette_app'), ...extra, 'app:app']);
}

/** Polls until `ready` holds for the JSON at `url`; a bounded wait, never a fixed sleep. */
async function pollJson<T>(url: string, ready: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = JSON.parse((await get(url)).body) as T;
    if (ready(value)) return value;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)} at ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!hasStarlette)(suite, () => {
  it('routes with path parameters, answers JSON, reads a JSON body, streams, and runs background tasks after the response', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const home = await get(`${url}/`);
    expect(home.status).toBe(200);
    expect(home.body).toMatch(/^Hello from Starlette, process \d+$/);

    const item = await get(`${url}/items/42?q=a&q=b%20c`);
    expect(item.headers['content-type']).toBe('application/json');
    // The lifespan's state reached the request.
    expect(JSON.parse(item.body)).toEqual({ id: 42, q: ['a', 'b c'], greeting: 'hello from the lifespan', same_process: true });
    expect((await get(`${url}/items/not-a-number`)).status).toBe(404);

    const echoed = await post(`${url}/echo`, JSON.stringify({ name: 'Zoë', tags: ['x', 'y'] }), { 'content-type': 'application/json' });
    expect(echoed.status).toBe(201);
    expect(JSON.parse(Buffer.from(echoed.body, 'latin1').toString('utf8'))).toEqual({ received: { name: 'Zoë', tags: ['x', 'y'] }, keys: ['name', 'tags'] });

    const streamed = await get(`${url}/stream?n=20`);
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    expect(streamed.body.split('\n').slice(0, -1)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${String(i + 1)} of 20`));

    expect(JSON.parse((await get(`${url}/background?name=first`)).body)).toEqual({ queued: 'first' });
    expect(JSON.parse((await get(`${url}/background?name=second`)).body)).toEqual({ queued: 'second' });
    const tasks = await pollJson<{ done: string[] }>(`${url}/tasks`, (t) => t.done.length === 2);
    expect(tasks.done.sort()).toEqual(['first', 'second']);

    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.stream === 'stdout').map((l) => l.msg)).toEqual(['starlette_app: shutdown after 2 background tasks']);
    expect(bicorn.lines.filter((l) => l.level >= 40 && !isRootWarning(l))).toEqual([]);
  });

  it('serves a WebSocket endpoint: subprotocol, JSON and text messages, close from either side', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/lobby'), ['upper']);
    expect(client.ws.protocol).toBe('upper');
    expect(JSON.parse((await client.next()).data)).toEqual({ hello: 'lobby', greeting: 'hello from the lifespan' });
    client.ws.send('quiet please');
    expect(await client.next()).toEqual({ data: 'QUIET PLEASE', binary: false });
    client.ws.send('bye');
    expect(await client.closed).toEqual({ code: 4000, reason: 'see you' });

    // Closed by the client this time: the endpoint sees WebSocketDisconnect with the code.
    const second = await openWs(wsUrl(url, '/ws/kitchen'));
    await second.next();
    second.ws.close(4100);
    await pollJson<{ done: string[] }>(`${url}/tasks`, (t) => t.done.includes('ws closed 4100'));
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('serves from two workers, each running its own lifespan', async () => {
    const bicorn = serve(['-w', '2']);
    const url = await bicorn.listening();
    const pids = new Set<string>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const answer = await get(`${url}/`);
      expect(answer.status).toBe(200);
      pids.add(answer.body);
    }
    expect(pids.size).toBe(2);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.stream === 'stdout')).toHaveLength(2);
  });
});

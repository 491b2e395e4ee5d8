// A FastAPI app (test/fixtures/fastapi_app) served by bicorn: typed parameters, pydantic
// validation, dependencies on lifespan state, streaming, background tasks, a WebSocket
// endpoint and the OpenAPI schema.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, repoRoot, isRootWarning } from './support/bicorn-process.js';
import { get, post } from './support/http.js';
import { openWs, wsUrl } from './support/websocket.js';

// The pinned FastAPI lives in the repo's virtualenv, made by `pnpm python:setup`.
const python = join(repoRoot, '.venv', 'bin', 'python');
const hasFastApi = spawnSync(python, ['-c', 'import fastapi']).status === 0;
const suite = hasFastApi ? 'a FastAPI app served by bicorn' : 'a FastAPI app served by bicorn (skipped: no FastAPI in .venv; run `pnpm python:setup`)';

function serve(extra: string[] = []): BicornProcess {
  return new BicornProcess(['-b', '127.0.0.1:0', '--python', python, '--chdir', fixture('fastapi_app'), ...extra, 'main:app']);
}

const json = { 'content-type': 'application/json' };

/** Polls GET /events until it holds `wanted`; a bounded wait, never a fixed sleep. */
async function eventsIncluding(url: string, wanted: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { events } = JSON.parse((await get(`${url}/events`)).body) as { events: string[] };
    if (events.includes(wanted)) return events;
    if (Date.now() > deadline) throw new Error(`no ${wanted} in ${JSON.stringify(events)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!hasFastApi)(suite, () => {
  it('validates parameters and bodies, keeps state from the lifespan, streams, and runs background tasks', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    expect(JSON.parse((await get(`${url}/`)).body)).toEqual({ framework: 'fastapi' });
    expect(JSON.parse((await get(`${url}/items/1?q=sharp`)).body)).toEqual({ id: 1, q: 'sharp', name: 'hammer', price: 12.5 });
    expect(await get(`${url}/items/9`)).toMatchObject({ status: 404, body: '{"detail":"no item 9"}' });
    const badPath = await get(`${url}/items/one`);
    expect(badPath.status).toBe(422);
    expect(JSON.parse(badPath.body)).toMatchObject({ detail: [{ type: 'int_parsing', loc: ['path', 'item_id'] }] });

    const created = await post(`${url}/items`, JSON.stringify({ name: 'saw', price: 3, tags: ['tool'] }), json);
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body)).toEqual({ id: 2, name: 'saw', price: 3, tags: ['tool'] });
    // The new item lives in the lifespan's state, which every request shares.
    expect(JSON.parse((await get(`${url}/items/2`)).body)).toMatchObject({ name: 'saw' });
    const invalid = await post(`${url}/items`, JSON.stringify({ name: '', price: -1 }), json);
    expect(invalid.status).toBe(422);
    expect((JSON.parse(invalid.body) as { detail: { loc: string[] }[] }).detail.map((d) => d.loc.join('.'))).toEqual(['body.name', 'body.price']);
    expect((await post(`${url}/items`, '{not json', json)).status).toBe(422);

    expect(await eventsIncluding(url, 'created saw')).toEqual(['created saw']);

    const countdown = await get(`${url}/countdown?start=4`);
    expect(countdown.headers['content-type']).toBe('application/x-ndjson');
    expect(countdown.body.trim().split('\n').map((line) => (JSON.parse(line) as { n: number }).n)).toEqual([4, 3, 2, 1, 0]);

    const openapi = JSON.parse((await get(`${url}/openapi.json`)).body) as { info: { title: string }; paths: Record<string, unknown> };
    expect(openapi.info.title).toBe('bicorn fixture');
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/', '/items/{item_id}', '/items', '/countdown']));

    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.stream === 'stdout').map((l) => l.msg)).toEqual(['fastapi_app: shutdown with 2 items and 1 events']);
    expect(bicorn.lines.filter((l) => l.level >= 40 && !isRootWarning(l))).toEqual([]);
  });

  it('serves a WebSocket endpoint that keeps a running sum and sees the client close', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/sum'));
    const totals: unknown[] = [];
    for (const add of [5, 10, -3]) {
      client.ws.send(JSON.stringify({ add }));
      totals.push(JSON.parse((await client.next()).data));
    }
    expect(totals).toEqual([{ total: 5 }, { total: 15 }, { total: 12 }]);
    client.ws.close(4200, 'done adding');
    await eventsIncluding(url, 'sum ended at 12 with 4200');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

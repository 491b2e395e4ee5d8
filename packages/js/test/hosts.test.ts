import { once } from 'node:events';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { loadJsApp } from '../src/index.js';
import { recordingLog, send, startServer, type LogEntry, type TestServer } from '@bicorn/test-support';
import { fixtures } from './fixtures.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(app: string): Promise<{ port: number; entries: LogEntry[] }> {
  const { log, entries } = recordingLog();
  const host = await loadJsApp({ app, interface: 'auto', cwd: fixtures, rootPath: '', lifespan: 'auto', log: { ...log, info: () => {} } });
  const server = await startServer(host.listener);
  servers.push(server);
  return { port: server.port, entries };
}

describe('the ASGI host', () => {
  it('serves an ASGI app through the gateway, streamed request body included', async () => {
    const { port } = await serve('asgi-echo.mjs');
    const res = await send(port, { method: 'POST', path: '/up%20load', body: ['a', 'b', 'c'] });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('POST /up load abc');
  });
});

describe('the fetch host', () => {
  it('answers JSON, with this bound to the handler object and an absolute URL from Host', async () => {
    const { port } = await serve('fetch-object.mjs');
    const res = await send(port, { path: '/json?x=1', headers: { host: 'example.test:8080' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({ greeting: 'hello', method: 'GET', url: 'http://example.test:8080/json?x=1' });
  });

  it('streams the request body in and the response body out', async () => {
    const { port } = await serve('fetch-object.mjs');
    const echoed = await send(port, { method: 'POST', path: '/echo', headers: { 'x-tag': 't' }, body: ['part one, ', 'part two'] });
    expect(echoed.body.toString()).toBe('t:part one, part two');
    const streamed = await send(port, { path: '/stream' });
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    expect(streamed.body.toString()).toBe('one two');
  });

  it('writes a Response made of a string or bytes whole, with its Content-Length', async () => {
    const { port } = await serve('fetch-object.mjs');
    const json = await send(port, { path: '/json' });
    expect([json.headers['content-length'], json.headers['transfer-encoding']]).toEqual([String(json.body.length), undefined]);
    const bytes = await send(port, { path: '/bytes' });
    expect([bytes.status, bytes.rawHeaders.join(' '), bytes.body.toString()]).toEqual([202, expect.stringContaining('content-length 10'), 'some bytes']);
    // HEAD: no body, and no Content-Length the Response did not give, as for every interface.
    const head = await send(port, { method: 'HEAD', path: '/bytes' });
    expect([head.headers['content-length'], head.body.length]).toEqual([undefined, 0]);
  });

  it('serves a subclass of Response, and a Response the handler cloned and read', async () => {
    const { port } = await serve('fetch-object.mjs');
    const tagged = await send(port, { path: '/subclass' });
    expect([tagged.status, tagged.headers['x-class'], tagged.body.toString()]).toEqual([200, 'Tagged', 'from a subclass']);
    expect((await send(port, { path: '/cloned' })).body.toString()).toBe('cloned and sent');
  });

  it('keeps both Set-Cookie headers', async () => {
    const { port } = await serve('fetch-object.mjs');
    const res = await send(port, { path: '/cookies' });
    expect(res.status).toBe(201);
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('sends no body for HEAD', async () => {
    const { port } = await serve('fetch-object.mjs');
    const res = await send(port, { method: 'HEAD', path: '/cookies' });
    expect(res.status).toBe(201);
    expect(res.body.length).toBe(0);
  });

  it('answers 500 and logs the stack when the handler throws', async () => {
    const { port, entries } = await serve('fetch-object.mjs');
    const res = await send(port, { path: '/throw' });
    expect(res.status).toBe(500);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.level).toBe('error');
    expect((entries[0]?.data as { err: Error }).err.stack).toContain('fetch handler exploded');
  });

  it('answers 500 to a Response with a body longer than its Content-Length, naming the rule, and binds no body for HEAD', async () => {
    const { port, entries } = await serve('fetch-object.mjs');
    const res = await send(port, { path: '/length-long' });
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('Internal Server Error\n');
    expect(entries.map((e) => [e.level, (e.data as { err: Error }).err.message])).toEqual([
      ['error', 'the Response breaks its Content-Length: the body is longer than the 3 bytes of its content-length'],
    ]);
    const headRes = await send(port, { method: 'HEAD', path: '/length-long' });
    expect([headRes.status, headRes.headers['content-length'], headRes.complete]).toEqual([200, '3', true]);
    expect(entries).toHaveLength(1);
  });

  it('cuts the connection when a streamed Response body ends short of its Content-Length', async () => {
    const { port, entries } = await serve('fetch-object.mjs');
    const res = await send(port, { path: '/length-short' });
    expect([res.status, res.body.toString(), res.complete]).toEqual([200, 'hel', false]);
    expect((entries[0]?.data as { err: Error }).err.message).toMatch(/the body ends at 3 bytes, short of the 5/);
  });

  it('answers 500 and names what came back when the handler returns something other than a Response', async () => {
    const { port, entries } = await serve('fetch-object.mjs');
    const res = await send(port, { path: '/not-a-response' });
    expect(res.status).toBe(500);
    expect((entries[0]?.data as { err: Error }).err.message).toBe(
      'the fetch handler returned an object with properties status, not a Response',
    );
  });

  it("fires the request's signal when the client goes away, and does not log that as an error", async () => {
    const { port, entries } = await serve('fetch-object.mjs');
    const req = httpRequest({ host: '127.0.0.1', port, path: '/until-abort', agent: false });
    req.on('error', () => undefined);
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.on('error', () => undefined);
    await once(res, 'data');
    req.destroy();
    while (entries.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(entries).toHaveLength(1);
    expect(entries[0]?.level).toBe('debug');
    expect((entries[0]?.data as { err: Error }).err.message).toBe('saw the abort signal');
  });

  it('drops a request body the handler left unread, so the keep-alive connection serves the next request', async () => {
    const { port } = await serve('fetch-function.mjs:handler');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (let i = 0; i < 3; i++) {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', agent });
        req.on('socket', (socket) => sockets.add(socket));
        req.end(Buffer.alloc(1024 * 1024, 0x61));
        const [res] = (await once(req, 'response')) as [IncomingMessage];
        const body: Buffer[] = [];
        for await (const chunk of res) body.push(chunk as Buffer);
        expect(Buffer.concat(body).toString()).toBe('function POST');
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('serves a one-parameter function exported by name', async () => {
    const { port } = await serve('fetch-function.mjs:handler');
    expect((await send(port, { method: 'DELETE' })).body.toString()).toBe('function DELETE');
  });

  it('answers 400 when the Host header does not make a URL', async () => {
    const { port } = await serve('fetch-function.mjs:handler');
    expect((await send(port, { headers: { host: 'bad host' } })).status).toBe(400);
  });
});

describe('the node host', () => {
  it('runs a plain request listener as it is', async () => {
    const { port } = await serve('node-listener.mjs');
    const res = await send(port, { path: '/hello?x=1' });
    expect(res.body.toString()).toBe('node GET /hello?x=1');
  });

  it('runs an Express-style CommonJS app', async () => {
    const { port } = await serve('express-style.cjs');
    expect((await send(port)).body.toString()).toBe('express-style undefined');
  });

  it('answers 500 and logs when an async listener rejects', async () => {
    const { port, entries } = await serve('node-listener.mjs:rejects');
    const res = await send(port);
    expect(res.status).toBe(500);
    expect(entries[0]?.msg).toBe('exception in request listener');
  });
});

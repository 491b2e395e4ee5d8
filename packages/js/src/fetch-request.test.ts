import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, send, startServer, type TestServer } from '@bicorn/test-support';
import { toFetchRequest } from './fetch-request.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/**
 * Serves one request with `use(request)`, where request is what toFetchRequest makes; the
 * response is `use`'s text, or the error it threw. Resolves the server's port.
 */
async function serve(use: (request: Request, req: IncomingMessage, res: ServerResponse) => string | Promise<string>): Promise<number> {
  const server = await startServer((req, res) => {
    const request = toFetchRequest(req, res);
    Promise.resolve()
      .then(() => use(request, req, res))
      .then(
      (text) => res.end(text),
      (error: unknown) => res.end(`threw ${(error as Error).name}: ${(error as Error).message} ${String((error as Error).cause)}`),
    );
  });
  servers.push(server);
  return server.port;
}

/** A server that echoes what a forwarded request carries. */
async function echoServer(): Promise<number> {
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.end(`${req.method ?? ''} ${req.url ?? ''} x=${String(req.headers['x-tag'])} ${Buffer.concat(chunks).toString()}`));
  });
  servers.push(server);
  return server.port;
}

describe('toFetchRequest', () => {
  it('makes a Request with method, absolute URL and headers, and the defaults of every other member', async () => {
    const port = await serve((request) => {
      const platform = new Request(request.url);
      return JSON.stringify({
        isRequest: request instanceof Request,
        tag: Object.prototype.toString.call(request),
        constructor: request.constructor === Request,
        method: request.method,
        url: request.url,
        tag2: request.headers.get('x-tag'),
        headersAreHeaders: request.headers instanceof Headers,
        body: request.body,
        bodyUsed: request.bodyUsed,
        others: ['cache', 'credentials', 'destination', 'integrity', 'keepalive', 'mode', 'redirect', 'referrer', 'referrerPolicy', 'duplex'].map((k): unknown[] => [
          Reflect.get(request, k),
          Reflect.get(platform, k),
        ]),
        signal: request.signal instanceof AbortSignal && !request.signal.aborted,
      });
    });
    const res = await send(port, { path: '/a/b?c=d', headers: { host: 'example.test:8080', 'x-tag': 't' } });
    const seen = JSON.parse(res.body.toString()) as Record<string, unknown> & { others: [unknown, unknown][] };
    expect(seen).toMatchObject({ isRequest: true, tag: '[object Request]', constructor: true, method: 'GET', url: 'http://example.test:8080/a/b?c=d', tag2: 't', headersAreHeaders: true, body: null, bodyUsed: false, signal: true });
    for (const [mine, platform] of seen.others) expect(mine).toEqual(platform);
  });

  it('reads the body once, as text, JSON or bytes', async () => {
    const port = await serve(async (request) => {
      const text = await request.text();
      const again = await request.text().then(
        () => 'read twice',
        (error: unknown) => (error as Error).name,
      );
      return `${text} ${String(request.bodyUsed)} ${again}`;
    });
    expect((await send(port, { method: 'POST', body: ['one ', 'two'] })).body.toString()).toBe('one two true TypeError');
    const json = await serve(async (request) => JSON.stringify(await request.json()));
    expect((await send(json, { method: 'PUT', body: ['{"a":', '1}'] })).body.toString()).toBe('{"a":1}');
    const bytes = await serve(async (request) => String(new Uint8Array(await request.arrayBuffer()).length));
    expect((await send(bytes, { method: 'POST', body: ['abc'] })).body.toString()).toBe('3');
  });

  it('is a Request to new Request() and fetch(), body and changed headers included', async () => {
    const upstream = await echoServer();
    const port = await serve(async (request) => {
      request.headers.set('x-tag', 'changed');
      const forwarded = await fetch(new Request(`http://127.0.0.1:${String(upstream)}/up`, request));
      return `${String(request.bodyUsed)} | ${await forwarded.text()}`;
    });
    // A Content-Length body: fetch() refuses to forward a transfer-encoding header.
    const res = await send(port, { method: 'POST', path: '/p', headers: { host: 'h.test', 'x-tag': 'orig' }, body: 'payload' });
    expect(res.body.toString()).toBe('true | POST /up x=changed payload');
    const copied = await serve(async (request) => {
      const copy = new Request(request);
      return `${copy.method} ${copy.url} ${String(copy.headers.get('x-tag'))} ${await copy.text()} ${String(request.bodyUsed)}`;
    });
    expect((await send(copied, { method: 'PATCH', path: '/c', headers: { host: 'h.test', 'x-tag': 'c' }, body: ['moved'] })).body.toString()).toBe('PATCH http://h.test/c c moved true');
  });

  it('keeps headers changed after its platform Request was made, for what undici reads of it', async () => {
    const port = await serve((request) => {
      const before = request.cache; // a member only the platform Request answers
      request.headers.set('x-tag', 'late');
      request.headers.append('x-more', '1');
      const copy = new Request(request);
      const clone = request.clone();
      return `${before} ${String(copy.headers.get('x-tag'))} ${String(copy.headers.get('x-more'))} ${String(clone.headers.get('x-tag'))}`;
    });
    expect((await send(port, { headers: { 'x-tag': 'early' } })).body.toString()).toBe('default late 1 late');
  });

  it('clones, and both copies read the body', async () => {
    const port = await serve(async (request) => {
      const clone = request.clone();
      return `${await clone.text()}|${await request.text()}|${String(clone instanceof Request)}`;
    });
    expect((await send(port, { method: 'POST', body: ['twice'] })).body.toString()).toBe('twice|twice|true');
  });

  it('aborts its signal, and that of a Request made from it, when the client goes away', async () => {
    const aborted = deferred<string>();
    const port = await serve((request, _req, res) => {
      const copy = new Request(request);
      let seen = 0;
      const done = (): void => {
        if (++seen === 2) aborted.resolve(`${String(request.signal.aborted)} ${String(copy.signal.aborted)}`);
      };
      request.signal.addEventListener('abort', done);
      copy.signal.addEventListener('abort', done);
      res.flushHeaders();
      return new Promise(() => undefined);
    });
    const req = httpRequest({ host: '127.0.0.1', port, agent: false });
    req.on('error', () => undefined);
    req.end();
    await once(req, 'response');
    req.destroy();
    expect(await aborted.promise).toBe('true true');
  });

  /** A server that answers `made`, or the name of the error making the Request threw. */
  async function startMakingServer() {
    const server = await startServer((req, res) => {
      try {
        toFetchRequest(req, res);
        res.end('made');
      } catch (error) {
        res.end((error as Error).name);
      }
    });
    servers.push(server);
    return server;
  }

  it('refuses a Host that makes no URL', async () => {
    const server = await startMakingServer();
    expect((await send(server.port, { headers: { host: 'bad host' } })).body.toString()).toBe('TypeError');
  });

  it('makes a platform Request at once for TRACE, which undici refuses', async () => {
    const server = await startMakingServer();
    expect((await send(server.port, { method: 'TRACE' })).body.toString()).toBe('TypeError');
  });
});

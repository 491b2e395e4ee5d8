import { once } from 'node:events';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { AsgiApp, AsgiSend, HttpReceiveEvent, HttpScope, HttpSendEvent } from '../src/index.js';
import { ClientDisconnected, serveAsgiHttp } from '../src/index.js';
import { deferred, recordingLog, send, startServer, type TestServer } from '@bicorn/test-support';

const b = (text: string): Buffer => Buffer.from(text);
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(app: AsgiApp, rootPath = ''): Promise<{ port: number; entries: ReturnType<typeof recordingLog>['entries'] }> {
  const { log, entries } = recordingLog();
  const server = await startServer((req, res) => {
    void serveAsgiHttp(app, req, res, { rootPath, log });
  });
  servers.push(server);
  return { port: server.port, entries };
}

const ok = async (send: AsgiSend, body = 'ok'): Promise<void> => {
  await send({ type: 'http.response.start', status: 200, headers: [[b('content-type'), b('text/plain')]] });
  await send({ type: 'http.response.body', body: b(body) });
};

describe('the HTTP scope over a real socket', () => {
  it('carries method, decoded path, raw query, repeated headers and both addresses', async () => {
    let seen: HttpScope | undefined;
    const { port } = await serve(async (scope, _receive, send) => {
      seen = scope;
      await ok(send);
    });
    const res = await send(port, { path: '/caf%C3%A9?x=%20', headers: { 'X-Two': 'a, b' } });
    expect(res.status).toBe(200);
    expect(seen?.method).toBe('GET');
    expect(seen?.path).toBe('/café');
    expect(text(seen?.raw_path ?? b(''))).toBe('/caf%C3%A9');
    expect(text(seen?.query_string ?? b(''))).toBe('x=%20');
    expect(seen?.headers.map(([name, value]) => `${text(name)}: ${text(value)}`)).toContain('x-two: a, b');
    expect(seen?.server).toEqual(['127.0.0.1', port]);
    expect(seen?.client?.[0]).toBe('127.0.0.1');
  });
});

describe('receive()', () => {
  it('yields one empty http.request with more_body false for a request without a body', async () => {
    const events: HttpReceiveEvent[] = [];
    const { port } = await serve(async (_scope, receive, send) => {
      events.push(await receive());
      await ok(send);
    });
    await send(port);
    expect(events).toEqual([{ type: 'http.request', body: Buffer.alloc(0), more_body: false }]);
  });

  it('streams the request body in chunks with more_body until the last', async () => {
    const firstChunkSeen = deferred();
    const events: { body: string; more: boolean }[] = [];
    const { port } = await serve(async (_scope, receive, send) => {
      for (;;) {
        const event = await receive();
        if (event.type !== 'http.request') throw new Error(`unexpected ${event.type}`);
        events.push({ body: text(event.body), more: event.more_body });
        if (events.length === 1) firstChunkSeen.resolve();
        if (!event.more_body) break;
      }
      await ok(send, events.map((e) => e.body).join(''));
    });
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false });
    req.write('hello ');
    await firstChunkSeen.promise;
    req.end('world');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const body: Buffer[] = [];
    for await (const chunk of res) body.push(chunk as Buffer);
    expect(Buffer.concat(body).toString()).toBe('hello world');
    expect(events[0]).toEqual({ body: 'hello ', more: true });
    expect(events.at(-1)?.more).toBe(false);
    expect(events.slice(0, -1).every((e) => e.more)).toBe(true);
  });

  it('discards a body the app left unread, so the keep-alive connection serves the next request', async () => {
    const { port } = await serve(async (scope, receive, send) => {
      if (scope.path === '/read-one') await receive();
      await ok(send, scope.path);
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (const path of ['/unread', '/read-one', '/last']) {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, agent });
        req.on('socket', (socket) => sockets.add(socket));
        req.end(Buffer.alloc(1024 * 1024, 0x61));
        const [res] = (await once(req, 'response')) as [IncomingMessage];
        const body: Buffer[] = [];
        for await (const chunk of res) body.push(chunk as Buffer);
        expect(Buffer.concat(body).toString()).toBe(path);
      }
      expect(sockets.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('yields http.disconnect once the response is complete, waking a pending receive()', async () => {
    const order: string[] = [];
    const done = deferred();
    const { port } = await serve(async (_scope, receive, send) => {
      await receive();
      const pending = receive().then((event) => order.push(event.type));
      await send({ type: 'http.response.start', status: 200 });
      await send({ type: 'http.response.body', body: b('ok'), more_body: true });
      await new Promise((resolve) => setImmediate(resolve));
      order.push('response complete');
      await send({ type: 'http.response.body' });
      await pending;
      order.push((await receive()).type);
      done.resolve();
    });
    const res = await send(port);
    await done.promise;
    expect(res.body.toString()).toBe('ok');
    expect(order).toEqual(['response complete', 'http.disconnect', 'http.disconnect']);
  });

  it('yields http.disconnect when the client goes away, and send() then rejects with ClientDisconnected', async () => {
    const waiting = deferred();
    const outcome = deferred<{ event: string; sendError: unknown }>();
    const { port, entries } = await serve(async (_scope, receive, send) => {
      await receive();
      const next = receive();
      waiting.resolve();
      const event = (await next).type;
      const sendError = await send({ type: 'http.response.start', status: 200 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      outcome.resolve({ event, sendError });
      throw sendError;
    });
    const req = httpRequest({ host: '127.0.0.1', port, agent: false });
    req.on('error', () => undefined);
    req.end();
    await waiting.promise;
    req.destroy();
    const { event, sendError } = await outcome.promise;
    expect(event).toBe('http.disconnect');
    expect(sendError).toBeInstanceOf(ClientDisconnected);
    expect(sendError).toMatchObject({ code: 'ECONNRESET' });
    await until(() => entries.length > 0);
    expect(entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });
});

describe('send()', () => {
  it('streams the response body with more_body, chunk by chunk', async () => {
    const clientGotFirst = deferred();
    const { port } = await serve(async (_scope, _receive, send) => {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: b('one '), more_body: true });
      await clientGotFirst.promise;
      await send({ type: 'http.response.body', body: b('two '), more_body: true });
      await send({ type: 'http.response.body', body: b('three') });
    });
    const req = httpRequest({ host: '127.0.0.1', port, agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const chunks: string[] = [];
    for await (const chunk of res) {
      chunks.push(String(chunk));
      clientGotFirst.resolve();
    }
    expect(chunks[0]).toBe('one ');
    expect(chunks.join('')).toBe('one two three');
  });

  it('passes headers through in order, both Set-Cookie lines kept, and sends no body for HEAD', async () => {
    const { port } = await serve(async (_scope, _receive, send) => {
      await send({
        type: 'http.response.start',
        status: 201,
        headers: [
          [b('set-cookie'), b('a=1')],
          [b('set-cookie'), b('b=2')],
          [b('content-length'), b('5')],
        ],
      });
      await send({ type: 'http.response.body', body: b('hello') });
    });
    const get = await send(port);
    expect(get.status).toBe(201);
    expect(get.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(get.body.toString()).toBe('hello');
    const head = await send(port, { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('5');
    expect(head.body.length).toBe(0);
  });

  it('waits for the socket to drain: the app stays a bounded distance ahead of a slow client', async () => {
    const CHUNK = 64 * 1024;
    const TOTAL = 64 * 1024 * 1024;
    const LIMIT = 16 * 1024 * 1024;
    let sent = 0;
    const blocked = deferred<number>();
    let isBlocked = false;
    const finished = deferred();
    const { port } = await serve(async (_scope, _receive, send) => {
      await send({ type: 'http.response.start', status: 200 });
      const chunk = Buffer.alloc(CHUNK, 0x78);
      while (sent < TOTAL) {
        const pending = send({ type: 'http.response.body', body: chunk, more_body: true });
        if (!isBlocked) {
          // send() still pending after the event loop turned: it is waiting for 'drain'.
          const turn = new Promise<'blocked'>((resolve) => setImmediate(resolve, 'blocked'));
          if ((await Promise.race([pending.then(() => 'sent' as const), turn])) === 'blocked') {
            isBlocked = true;
            blocked.resolve(sent);
          }
        }
        await pending;
        sent += CHUNK;
      }
      await send({ type: 'http.response.body', body: Buffer.alloc(0) });
      blocked.resolve(sent);
      finished.resolve();
    });
    const req = httpRequest({ host: '127.0.0.1', port, agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    // The client reads nothing until the app is held back by send().
    const sentWhenBlocked = await blocked.promise;
    expect(sentWhenBlocked).toBeLessThan(LIMIT);
    let received = 0;
    let maxAhead = 0;
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      maxAhead = Math.max(maxAhead, sent - received);
    });
    await once(res, 'end');
    await finished.promise;
    expect(received).toBe(TOTAL);
    expect(maxAhead).toBeLessThan(LIMIT);
  });

  it('refuses a header value with CR LF: it never reaches the wire and the client gets a 500', async () => {
    const thrown = deferred<unknown>();
    const { port, entries } = await serve(async (_scope, _receive, send) => {
      try {
        await send({ type: 'http.response.start', status: 200, headers: [[b('x-evil'), b('a\r\nInjected: yes')]] });
      } catch (error) {
        thrown.resolve(error);
        throw error;
      }
    });
    const res = await send(port);
    expect(res.status).toBe(500);
    expect(res.headers.injected).toBeUndefined();
    expect(res.headers['x-evil']).toBeUndefined();
    expect(await thrown.promise).toBeInstanceOf(TypeError);
    expect(entries.find((entry) => entry.level === 'error')?.msg).toBe('exception in ASGI app');
  });
});

describe('event order and failures', () => {
  it('answers 500 and logs the error with its stack when the app raises before start', async () => {
    const { port, entries } = await serve(() => Promise.reject(new Error('kaboom')));
    const res = await send(port);
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('Internal Server Error\n');
    const [entry] = entries;
    expect(entry?.level).toBe('error');
    expect(entry?.data).toMatchObject({ err: { message: 'kaboom' }, method: 'GET', path: '/' });
    expect((entry?.data as { err: Error }).err.stack).toContain('kaboom');
  });

  it('aborts the connection when the app raises after start', async () => {
    const { port, entries } = await serve(async (_scope, _receive, send) => {
      await send({ type: 'http.response.start', status: 200 });
      await send({ type: 'http.response.body', body: b('partial'), more_body: true });
      throw new Error('mid-stream');
    });
    const res = await send(port);
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(entries.map((entry) => entry.level)).toEqual(['error']);
  });

  it('answers 500 when the app returns before start, and aborts when it returns mid-body', async () => {
    const early = await serve(async () => {});
    expect((await send(early.port)).status).toBe(500);
    expect(early.entries[0]?.data).toMatchObject({ rule: 'app returned before the final http.response.body' });

    const midway = await serve(async (_scope, _receive, send) => {
      await send({ type: 'http.response.start', status: 200 });
      await send({ type: 'http.response.body', body: b('half'), more_body: true });
    });
    expect((await send(midway.port)).complete).toBe(false);
    expect(midway.entries[0]?.level).toBe('error');
  });

  it.each<[string, HttpSendEvent[], string]>([
    ['body before start', [{ type: 'http.response.body', body: b('x') }], 'http.response.body sent before http.response.start'],
    [
      'a second start',
      [
        { type: 'http.response.start', status: 200 },
        { type: 'http.response.start', status: 201 },
      ],
      'http.response.start sent twice',
    ],
  ])('answers 500 for %s, logs the rule and throws from send()', async (_label, events, rule) => {
    const thrown = deferred<unknown>();
    const { port, entries } = await serve(async (_scope, _receive, send) => {
      try {
        for (const event of events) await send(event);
      } catch (error) {
        thrown.resolve(error);
        throw error;
      }
    });
    const res = await send(port);
    expect(res.status).toBe(500);
    expect(String(await thrown.promise)).toContain(rule);
    expect(entries).toEqual([{ level: 'error', data: expect.objectContaining({ rule }) as object, msg: 'ASGI app broke the HTTP event order' }]);
  });

  it('aborts a started response when the app sends a second start mid-body', async () => {
    const { port, entries } = await serve(async (_scope, _receive, send) => {
      await send({ type: 'http.response.start', status: 200 });
      await send({ type: 'http.response.body', body: b('half'), more_body: true });
      await send({ type: 'http.response.start', status: 200 });
    });
    const res = await send(port);
    expect(res.complete).toBe(false);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.data).toMatchObject({ rule: 'http.response.start sent twice' });
  });

  it('keeps a complete response whole when the app sends after the final body, and logs the rule', async () => {
    const thrown = deferred<unknown>();
    const { port, entries } = await serve(async (_scope, _receive, send) => {
      await ok(send, 'whole');
      await send({ type: 'http.response.body', body: b('extra') }).catch((error: unknown) => {
        thrown.resolve(error);
      });
    });
    const res = await send(port);
    expect(res.complete).toBe(true);
    expect(res.body.toString()).toBe('whole');
    expect(String(await thrown.promise)).toContain('http.response.body sent after the final http.response.body');
    expect(entries).toHaveLength(1);
  });
});

/** Waits for a condition that an event will make true, checking once per event-loop turn. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ClientDisconnected, WebSocketGateway, type AsgiWebSocketCallable, type WebSocketGatewayOptions } from '../src/index.js';
import { deferred, recordingLog } from '@bicorn/test-support';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
});

async function serve(app: AsgiWebSocketCallable, options: Partial<WebSocketGatewayOptions> = {}) {
  const { log, entries } = recordingLog();
  const gateway = new WebSocketGateway({
    maxMessageSize: 1024 * 1024,
    pingIntervalMs: 0,
    pingTimeoutMs: 0,
    perMessageDeflate: false,
    receiveWindow: 1024 * 1024,
    sendWindow: 1024 * 1024,
    rootPath: '',
    log,
    ...options,
  });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => {
    gateway.handle(app, req, socket, head);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `ws://127.0.0.1:${String((server.address() as AddressInfo).port)}`, gateway, entries };
}

function open(url: string, options: WebSocket.ClientOptions = {}): Promise<{ ws: WebSocket; closed: Promise<number>; messages: string[] }> {
  const ws = new WebSocket(url, options);
  const messages: string[] = [];
  ws.on('message', (data: Buffer) => messages.push(data.toString()));
  const closed = new Promise<number>((resolve) => ws.on('close', resolve));
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      resolve({ ws, closed, messages });
    });
    ws.once('error', reject);
  });
}

function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('open', () => {
      reject(new Error('accepted'));
    });
    ws.on('error', () => undefined);
  });
}

describe('WebSocketGateway', () => {
  it('delivers every message in order through a receive window smaller than one message', async () => {
    const got = deferred<string[]>();
    const ready = deferred();
    const { url } = await serve(
      async (_scope, receive, send) => {
        await receive();
        await send({ type: 'websocket.accept' });
        await ready.promise;
        const texts: string[] = [];
        for (let i = 0; i < 3; i++) {
          const event = await receive();
          texts.push(event.type === 'websocket.receive' ? (event.text ?? '') : event.type);
        }
        got.resolve(texts);
      },
      { receiveWindow: 1 },
    );
    const { ws } = await open(url);
    ws.send('one');
    ws.send('two');
    ws.send('three');
    ready.resolve();
    expect(await got.promise).toEqual(['one', 'two', 'three']);
    ws.close();
  });

  it('resolves every send() that waited past the send window once its message is written', async () => {
    const outcomes = deferred<string[]>();
    const { url } = await serve(
      async (_scope, receive, send) => {
        await receive();
        await send({ type: 'websocket.accept' });
        // 16 MiB without yielding to I/O fills the socket, so the later sends wait for the client.
        const results: string[] = [];
        for (let i = 0; i < 16; i++) {
          results.push(await send({ type: 'websocket.send', bytes: Buffer.alloc(1024 * 1024, i) }).then(() => 'sent', (error: unknown) => String(error)));
        }
        outcomes.resolve(results);
        await receive();
      },
      { sendWindow: 1 },
    );
    const ws = new WebSocket(url);
    const firstBytes: number[] = [];
    const all = deferred();
    ws.on('message', (data: Buffer) => {
      if (firstBytes.push(data[0] ?? -1) === 16) all.resolve();
    });
    expect(await outcomes.promise).toEqual(Array.from({ length: 16 }, () => 'sent'));
    await all.promise;
    expect(firstBytes).toEqual(Array.from({ length: 16 }, (_, i) => i));
    ws.close();
  });

  it('closes with 1000 when the app returns after accepting, and 1011 when it throws', async () => {
    const { url, entries } = await serve(async (scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      if (scope.path === '/throw') throw new Error('boom');
    });
    expect(await (await open(`${url}/return`)).closed).toBe(1000);
    expect(await (await open(`${url}/throw`)).closed).toBe(1011);
    expect(entries.map((e) => `${e.level} ${e.msg}`)).toEqual(['error exception in ASGI WebSocket app']);
  });

  it('answers 500 and logs the rule when the app returns without answering the handshake', async () => {
    const { url, entries } = await serve(async (_scope, receive) => {
      await receive();
    });
    expect(await statusOf(url)).toBe(500);
    expect(entries[0]?.data).toMatchObject({ rule: 'app returned without accepting, closing or denying the WebSocket' });
  });

  it('throws out of send() for an event out of order or invalid, and answers 500', async () => {
    const thrown = deferred<unknown[]>();
    const { url, entries } = await serve(async (_scope, receive, send) => {
      await receive();
      const errors: unknown[] = [];
      await send({ type: 'websocket.accept', subprotocol: 'nope' }).catch((error: unknown) => errors.push(error));
      await send({ type: 'websocket.send', text: 'early' }).catch((error: unknown) => errors.push(error));
      thrown.resolve(errors);
    });
    expect(await statusOf(url)).toBe(500);
    const [invalid, order] = await thrown.promise;
    expect(String(invalid)).toBe('TypeError: websocket.accept: subprotocol "nope" is not one the client offered (it offered none)');
    expect(String(order)).toBe('Error: ASGI event order violated: websocket.send sent before websocket.accept');
    expect(entries.map((e) => e.msg)).toEqual(['ASGI app broke the WebSocket event order']);
  });

  it('raises ClientDisconnected, logged at debug only, for a send after the client closed', async () => {
    const thrown = deferred<unknown>();
    const { url, entries } = await serve(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'websocket.accept' });
      expect(await receive()).toMatchObject({ type: 'websocket.disconnect', code: 4002, reason: 'gone' });
      await send({ type: 'websocket.send', text: 'late' }).catch((error: unknown) => {
        thrown.resolve(error);
        throw error;
      });
    });
    const { ws } = await open(url);
    ws.close(4002, 'gone');
    expect(await thrown.promise).toBeInstanceOf(ClientDisconnected);
    await expect.poll(() => entries.length).toBe(1);
    expect(entries[0]?.level).toBe('debug');
  });

  it('closes every WebSocket with 1001 on closeAll, and answers a pending handshake 503', async () => {
    const accepted = deferred();
    const pending = deferred<unknown>();
    const { url, gateway } = await serve(async (scope, receive, send) => {
      await receive();
      if (scope.path === '/pending') {
        await accepted.promise;
        pending.resolve(await receive());
        return;
      }
      await send({ type: 'websocket.accept' });
      await receive();
    });
    const { closed } = await open(url);
    const status = statusOf(`${url}/pending`);
    await expect.poll(() => gateway.open).toBe(2);
    await gateway.closeAll(5000);
    accepted.resolve();
    expect(await closed).toBe(1001);
    expect(await status).toBe(503);
    expect(await pending.promise).toEqual({ type: 'websocket.disconnect', code: 1001, reason: '' });
    expect(gateway.open).toBe(0);
  });

  it('terminates a client that does not answer pings', async () => {
    const { url } = await serve(
      async (_scope, receive, send) => {
        await receive();
        await send({ type: 'websocket.accept' });
        await receive();
      },
      { pingIntervalMs: 20, pingTimeoutMs: 20 },
    );
    const { closed } = await open(url, { autoPong: false });
    expect(await closed).toBe(1006);
  });

  it('refuses a handshake with an unsupported version before running the app', async () => {
    let ran = false;
    const { url } = await serve(() => {
      ran = true;
    });
    const port = new URL(url).port;
    const status = await new Promise<number>((resolve) => {
      const req = request({ port, host: '127.0.0.1', headers: { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '7' } });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      req.end();
    });
    expect(status).toBe(426);
    expect(ran).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';

const APP = fixture('apps/asgi-full.mjs');

interface Client {
  readonly ws: WebSocket;
  /** The next message, in order (text as a string, binary as a Buffer). */
  next(): Promise<string | Buffer>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** Opens a WebSocket and resolves once it is open; queues its messages from the first. */
async function connect(url: string, protocols: string[] = []): Promise<Client> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols);
  const queue: (string | Buffer)[] = [];
  const waiters: ((message: string | Buffer) => void)[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const message = isBinary ? data : data.toString('utf8');
    const waiter = waiters.shift();
    if (waiter === undefined) queue.push(message);
    else waiter(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString('utf8') });
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    next: () => {
      const queued = queue.shift();
      return queued === undefined ? new Promise((resolve) => waiters.push(resolve)) : Promise.resolve(queued);
    },
  };
}

/** Attempts a handshake the server refuses, and returns its HTTP answer. */
function refused(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.on('open', () => {
      reject(new Error('the handshake was accepted'));
    });
    ws.on('error', () => undefined);
  });
}

async function serve(args: string[] = []): Promise<{ bicorn: BicornProcess; url: string }> {
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...args, APP]);
  return { bicorn, url: await bicorn.listening() };
}

describe('WebSockets of a JavaScript ASGI app', () => {
  it('accepts with the chosen subprotocol and extra headers, and echoes text and bytes', async () => {
    const { bicorn, url } = await serve();
    const client = await connect(`${url}/echo?x=1`, ['chat.v2', 'chat.v1']);
    expect(client.ws.protocol).toBe('chat.v2');
    expect(JSON.parse(String(await client.next()))).toEqual({ path: '/echo', state: { db: 'connected' } });
    client.ws.send('hello');
    expect(await client.next()).toBe('echo hello');
    client.ws.send(Buffer.from([0, 1, 2, 255]));
    expect(await client.next()).toEqual(Buffer.from([0, 1, 2, 255]));
    client.ws.close();
    await client.closed;
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('sends the extra accept headers with the 101', async () => {
    const { bicorn, url } = await serve();
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/echo`);
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve) => {
      ws.once('upgrade', (res) => {
        resolve(res.headers);
      });
    });
    expect(headers['x-fixture']).toBe('yes');
    ws.close();
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('closes with the code and reason the app gives', async () => {
    const { bicorn, url } = await serve();
    const client = await connect(`${url}/echo`);
    await client.next();
    client.ws.send('close please');
    expect(await client.closed).toEqual({ code: 4000, reason: 'bye' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("gives the app the client's close code and reason", async () => {
    const { bicorn, url } = await serve();
    const client = await connect(`${url}/echo`);
    await client.next();
    client.ws.close(4001, 'client bye');
    await client.closed;
    let closes: unknown[] = [];
    while (closes.length === 0) closes = JSON.parse((await get(`${url}/closes`)).body) as unknown[];
    expect(closes).toEqual([{ code: 4001, reason: 'client bye' }]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 403 to a close before accept, the app\'s own denial response, and 500 to a failure before accept', async () => {
    const { bicorn, url } = await serve();
    expect((await refused(`${url}/deny`)).status).toBe(403);
    expect(await refused(`${url}/custom-deny`)).toEqual({ status: 418, body: 'no tea' });
    expect((await refused(`${url}/fail`)).status).toBe(500);
    const logged = await bicorn.waitForLog('the app failure', (l) => l.msg === 'exception in ASGI WebSocket app');
    expect(JSON.stringify(logged)).toContain('fixture failure before accept');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('closes with 1009 a connection whose message is over --ws-max-size', async () => {
    const { bicorn, url } = await serve(['--ws-max-size', '1024']);
    const client = await connect(`${url}/echo`);
    await client.next();
    client.ws.send('x'.repeat(1000));
    expect(await client.next()).toBe(`echo ${'x'.repeat(1000)}`);
    client.ws.send('x'.repeat(2000));
    expect((await client.closed).code).toBe(1009);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('closes an open WebSocket with 1001 on SIGTERM, then exits 0 after the lifespan shutdown', async () => {
    const { bicorn, url } = await serve(['--access-logfile', '-']);
    const client = await connect(`${url}/echo`);
    await client.next();
    bicorn.signal('SIGTERM');
    expect((await client.closed).code).toBe(1001);
    expect(await bicorn.exited).toEqual({ code: 0, signal: null });
    expect(bicorn.lines.some((l) => l.msg === 'fixture lifespan shutdown')).toBe(true);
    expect(bicorn.lines.find((l) => l.msg === 'access' && l.path === '/echo')).toMatchObject({ status: 101, method: 'GET' });
  });
});

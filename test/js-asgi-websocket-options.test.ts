import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { Client, wsUrl } from './support/websocket.js';

const APP = fixture('apps/asgi-full.mjs');

async function serve(args: readonly string[]): Promise<{ bicorn: BicornProcess; url: string }> {
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...args, APP]);
  return { bicorn, url: await bicorn.listening() };
}

/** Opens a WebSocket with ws client options; resolves with the client and its TCP socket. */
function open(url: string, options: WebSocket.ClientOptions = {}): Promise<{ client: Client; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    let headers: Record<string, string | string[] | undefined> = {};
    let socket: Socket | undefined;
    ws.once('upgrade', (res) => {
      headers = res.headers;
      socket = res.socket;
    });
    ws.once('open', () => {
      if (socket === undefined) reject(new Error('open without an upgrade response'));
      else resolve({ client: new Client(ws, headers), socket });
    });
    ws.once('error', reject);
  });
}

/** What the app's websocket.disconnect events carried, once there is one. */
async function appCloses(url: string): Promise<unknown[]> {
  return pollUntil("the app's WebSocket disconnect", async () => {
    const closes = JSON.parse((await get(`${url}/closes`)).body) as unknown[];
    return closes.length > 0 ? closes : undefined;
  });
}

describe('per-message deflate for a JavaScript ASGI app', () => {
  it('negotiates permessage-deflate under --ws-per-message-deflate, and echoes through it compressed', async () => {
    const { bicorn, url } = await serve(['--ws-per-message-deflate']);
    const { client, socket } = await open(wsUrl(url, '/echo'));
    expect(client.upgradeHeaders['sec-websocket-extensions']).toMatch(/^permessage-deflate\b/);
    expect(client.ws.extensions).toMatch(/^permessage-deflate\b/);
    await client.next();
    const text = 'compress me '.repeat(5000);
    const before = socket.bytesRead;
    client.ws.send(text);
    expect((await client.next()).data).toBe(`echo ${text}`);
    // 60 kB of repeated text comes back as a few hundred bytes on the wire.
    expect(socket.bytesRead - before).toBeLessThan(2000);
    client.ws.close();
    await client.closed;
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('negotiates no extension without the flag, though the client offers it', async () => {
    const { bicorn, url } = await serve([]);
    const { client } = await open(wsUrl(url, '/echo'), { perMessageDeflate: true });
    expect(client.upgradeHeaders['sec-websocket-extensions']).toBeUndefined();
    expect(client.ws.extensions).toBe('');
    await client.next();
    client.ws.send('plain');
    expect((await client.next()).data).toBe('echo plain');
    client.ws.close();
    await client.closed;
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('WebSocket pings for a JavaScript ASGI app', () => {
  const PINGS = ['--ws-ping-interval', '0.2', '--ws-ping-timeout', '0.2'];

  it('disconnects a client that does not answer a ping within --ws-ping-timeout, and the app hears 1006', async () => {
    const { bicorn, url } = await serve(PINGS);
    const { client } = await open(wsUrl(url, '/echo'), { autoPong: false });
    const pinged = new Promise<void>((resolve) => client.ws.once('ping', () => resolve()));
    await client.next();
    await pinged;
    expect((await client.closed).code).toBe(1006);
    expect(await appCloses(url)).toEqual([{ code: 1006, reason: '' }]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('keeps a client that answers its pings, every --ws-ping-interval', async () => {
    const { bicorn, url } = await serve(PINGS);
    const { client } = await open(wsUrl(url, '/echo'));
    await client.next();
    await new Promise<void>((resolve) => {
      let pings = 0;
      client.ws.on('ping', () => {
        if (++pings === 3) resolve();
      });
    });
    client.ws.send('still here');
    expect((await client.next()).data).toBe('echo still here');
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
    expect(await appCloses(url)).toEqual([{ code: 1000, reason: '' }]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

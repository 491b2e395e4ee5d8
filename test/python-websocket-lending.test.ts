// A Python ASGI app's WebSocket run by its own process on the client's socket, lent by the
// worker once the handshake is done (frames/SPEC.md, "A WebSocket on the client's socket"), end
// to end with raw_asgi.py: the worker reads none of the messages; a connection that agrees on
// compression, or whose client sent a frame before the 101, is relayed as before; and one whose
// Python process dies gets 1011. The rest of
// what an open WebSocket does (the app's close codes, 1001 on a stop, flow control, Python's
// own client) is asgi-raw-websocket.test.ts's and its neighbours', which run lent now too.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bytesRead, pythonPidOf } from './support/proc.js';
import { hasPython, noPython } from './support/python.js';
import { serveRaw } from './support/raw-asgi.js';
import { openWs, wsUrl, type Client } from './support/websocket.js';

const MESSAGES = 32;
const MESSAGE_SIZE = 64 * 1024;

/** Sends MESSAGES random binary messages one by one and checks each echo (`echo:` and the bytes); the bytes sent. */
async function echoRandom(client: Client): Promise<number> {
  for (let i = 0; i < MESSAGES; i++) {
    const message = randomBytes(MESSAGE_SIZE);
    client.ws.send(message);
    const echo = await client.next();
    expect(echo.binary).toBe(true);
    expect(Buffer.from(echo.data, 'latin1').equals(Buffer.concat([Buffer.from('echo:'), message]))).toBe(true);
  }
  return MESSAGES * MESSAGE_SIZE;
}

describe.skipIf(!hasPython)(`a Python app's WebSocket on the client's socket${noPython}`, () => {
  it('runs in the Python process: the worker reads none of its messages, and its access line counts what the Python process wrote', async () => {
    const bicorn = serveRaw(['--access-logfile', '-']);
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/echo'));
    expect(client.upgradeHeaders['x-accepted-by']).toBe('raw_asgi');
    const before = bytesRead(bicorn.workerPid());
    const sent = await echoRandom(client);
    // Relayed, the worker would read each message twice: from the client and from the app.
    expect(bytesRead(bicorn.workerPid()) - before).toBeLessThan(sent / 16);
    client.ws.close(4000, 'bye');
    expect(await client.closed).toEqual({ code: 4000, reason: 'bye' });
    expect((await bicorn.stop()).code).toBe(0);
    const access = bicorn.lines.find((l) => l.msg === 'access' && l.path === '/ws/echo');
    expect(access).toMatchObject({ status: 101 });
    // The 101, then each echo ("echo:" and the message, with its frame's head) and the close.
    expect(Number(access?.bytes)).toBeGreaterThan(sent + MESSAGES * 'echo:'.length);
  });

  it('relays a connection that agrees on per-message compression, which the Python process does not do', async () => {
    const bicorn = serveRaw(['--ws-per-message-deflate']);
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/echo'), [], { perMessageDeflate: true });
    expect(client.upgradeHeaders['sec-websocket-extensions']).toMatch(/permessage-deflate/);
    const before = bytesRead(bicorn.workerPid());
    const sent = await echoRandom(client);
    expect(bytesRead(bicorn.workerPid()) - before).toBeGreaterThan(sent);
    client.ws.close(1000);
    await client.closed;
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('relays a connection whose client sent a frame before the 101, which the worker has read', async () => {
    const bicorn = serveRaw();
    const url = new URL(await bicorn.listening());
    const handshake = 'GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    // A text frame "early", masked with a key of zeros.
    const early = Buffer.concat([Buffer.from([0x81, 0x85, 0, 0, 0, 0]), Buffer.from('early')]);
    const socket = connect(Number(url.port), url.hostname);
    socket.write(Buffer.concat([Buffer.from(handshake), early]));
    const answer = await new Promise<Buffer>((resolve, reject) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.includes('echo: early')) resolve(data);
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`closed after ${JSON.stringify(data.toString('latin1'))}`)));
    }).finally(() => socket.destroy());
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    expect(answer.subarray(answer.indexOf('\r\n\r\n') + 4, answer.indexOf('\r\n\r\n') + 6)).toEqual(Buffer.from([0x81, 11]));
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('closes with 1011 when the Python process dies, and the next one takes new connections', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/echo'));
    await echoRandom(client);
    process.kill(pythonPidOf(bicorn.pid), 'SIGKILL');
    expect((await client.closed).code).toBe(1011);
    await bicorn.waitForLog('the next Python process', (l) => l.msg.startsWith('a new Python process is ready'));
    const again = await openWs(wsUrl(url, '/ws/echo'));
    await echoRandom(again);
    again.ws.close(1000);
    await again.closed;
    expect((await bicorn.stop()).code).toBe(0);
  });
});

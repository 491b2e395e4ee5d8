// The front's limits in time and number: header_timeout (408; a slow client holds a socket,
// never a Python thread), uploads that keep moving, limit_concurrency (503 with Retry-After,
// WebSockets counted), limit_request_body on WebSocket messages, and the lingering close that
// lets an uploading client read its 413.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fixture } from './support/bicorn-process.js';
import { frontApp, rawExchange, requestOf, serveFront } from './support/front.js';
import { get } from './support/http.js';
import { hasPython } from './support/python.js';
import { openWs, wsUrl } from './support/websocket.js';
import { BicornProcess } from './support/bicorn-process.js';

describe('header_timeout', () => {
  it('answers 408 to a head that does not come in time, and to a connection that sends nothing', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--header-timeout', '1']);
    const url = await bicorn.listening();
    const [partial, silent] = await Promise.all([
      rawExchange(url, 'GET / HTTP/1.1\r\nHost: a\r\n', { timeoutMs: 10_000 }),
      rawExchange(url, '', { timeoutMs: 10_000 }),
    ]);
    for (const answer of [partial, silent]) {
      expect(answer.status, answer.raw).toBe(408);
      expect(answer.closed).toBe(true);
    }
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)('keeps a slow head off the only Python thread: other requests are served meanwhile', async () => {
    const bicorn = serveFront(frontApp('wsgi'), ['--threads', '1', '--header-timeout', '10']);
    const url = await bicorn.listening();
    const { hostname, port } = new URL(url);
    const slow = connect({ host: hostname, port: Number(port) }, () => slow.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Le'));
    const ready = await get(`${url}/meanwhile`);
    expect(ready.status).toBe(200);
    slow.destroy();
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('leaves an upload alone while it keeps moving, past the header and request timeouts', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--header-timeout', '1', '--request-timeout', '1']);
    const url = await bicorn.listening();
    const { hostname, port } = new URL(url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(requestOf('POST /upload HTTP/1.1', 'Host: a', 'Content-Length: 12', 'Connection: close')));
      let sent = 0;
      const drip = setInterval(() => {
        socket.write('x');
        if (++sent === 12) clearInterval(drip);
      }, 250);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(received);
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"body_length":12');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('limit_concurrency', () => {
  it('answers 503 with Retry-After past the requests in flight, and serves again once one ends', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--limit-concurrency', '1', fixture('apps/asgi.mjs')]);
    const url = await bicorn.listening();
    const slow = get(`${url}/slow?ms=1500`);
    await bicorn.waitForLog('the slow request', (l) => l.msg === 'slow request started');
    const refused = await rawExchange(url, requestOf('GET / HTTP/1.1', 'Host: a'));
    expect(refused.status).toBe(503);
    expect(refused.head.toLowerCase()).toContain('\r\nretry-after: 1');
    expect(refused.head.toLowerCase()).toContain('\r\nconnection: close');
    expect(refused.closed).toBe(true);
    expect((await slow).status).toBe(200);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('counts open WebSockets', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--limit-concurrency', '1']);
    const url = await bicorn.listening();
    const ws = await openWs(wsUrl(url, '/ws'));
    await ws.next();
    expect((await get(`${url}/`)).status).toBe(503);
    await expect(openWs(wsUrl(url, '/ws'))).rejects.toThrow(/HTTP 503/);
    ws.ws.close();
    await ws.closed;
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('limit_request_body', () => {
  it('closes a WebSocket whose message is larger (1009)', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--limit-request-body', '1000']);
    const url = await bicorn.listening();
    const ws = await openWs(wsUrl(url, '/ws'));
    await ws.next();
    ws.ws.send('x'.repeat(1000));
    expect((await ws.next()).data).toHaveLength(1000);
    ws.ws.send('x'.repeat(1001));
    expect((await ws.closed).code).toBe(1009);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('reads what a client still uploads after its 413, so that it can send it all, then read the answer (lingering close)', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--limit-request-body', '1000']);
    const url = await bicorn.listening();
    const { hostname, port } = new URL(url);
    const answer = await new Promise<{ received: string; error: string | undefined }>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.write(requestOf('POST /upload HTTP/1.1', 'Host: a', `Content-Length: ${String(32 * 1024 * 1024)}`));
        // Sends the whole body before it reads, as a blocking client does.
        const piece = Buffer.alloc(256 * 1024, 'x');
        let left = 128;
        const pump = (): void => {
          while (left > 0 && !socket.destroyed) {
            left--;
            if (!socket.write(piece)) return;
          }
          if (left === 0) socket.end();
        };
        socket.on('drain', pump);
        pump();
      });
      let received = '';
      let error: string | undefined;
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
      socket.on('close', () => {
        resolve({ received, error });
      });
    });
    expect(answer.error).toBeUndefined();
    expect(answer.received).toMatch(/^HTTP\/1\.1 413 /);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

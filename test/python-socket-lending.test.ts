// The client's socket lent to a Python app's process for large response bodies (frames/SPEC.md,
// "Lending the client's socket"), end to end with big_asgi.py and big_wsgi.py: the bytes and
// the keep-alive connection after them, the request timeout and the access log counting what the
// Python process wrote, a client that leaves, and bodies that are not lent (a client that stops
// reading is flow-control.test.ts's).
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hasPython, noPython } from './support/python.js';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { bytesRead } from './support/proc.js';

const MiB = 1024 * 1024;

interface Downloaded {
  readonly status: number;
  readonly bytes: number;
  /** Whether every byte was the app's 'x'. */
  readonly intact: boolean;
  readonly headers: IncomingMessage['headers'];
}

/** GETs `path` and reads its body, pausing `pauseMs` after every MiB when given. */
function download(url: string, path: string, agent: Agent | false = false, pauseMs = 0): Promise<Downloaded> {
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, { agent }, (res) => {
      let bytes = 0;
      let intact = true;
      let sincePause = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (intact && chunk.some((byte) => byte !== 0x78)) intact = false;
        sincePause += chunk.length;
        if (pauseMs > 0 && sincePause >= MiB) {
          sincePause = 0;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, bytes, intact, headers: res.headers }); });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const apps = [
  { of: 'an ASGI app', app: 'big_asgi:app' },
  { of: 'a WSGI app', app: 'big_wsgi:application' },
];

describe.skipIf(!hasPython)(`a Python app writing large bodies to the client's socket itself${noPython}`, () => {
  it.each(apps)('sends every byte, counts them in the access log, and serves the next request on the same connection: $of', async ({ app }) => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--access-logfile', '-', '--chdir', fixture('python'), app]);
    const url = await bicorn.listening();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const workerPid = bicorn.workerPid();
    try {
      const readBefore = bytesRead(workerPid);
      const first = await download(url, '/download?mb=16', agent);
      expect(first).toMatchObject({ status: 200, bytes: 16 * MiB, intact: true });
      // The body never passed through the worker, which would have read it from the socket pair.
      expect(bytesRead(workerPid) - readBefore).toBeLessThan(MiB);
      const second = await download(url, '/download?mb=2', agent);
      expect(second).toMatchObject({ status: 200, bytes: 2 * MiB, intact: true });
      await bicorn.waitForLog('the second access line', (l) => l.msg === 'access' && bicorn.lines.filter((line) => line.msg === 'access').length >= 2);
      const sizes = bicorn.lines.filter((l) => l.msg === 'access').map((l) => Number(l.bytes));
      // Head included: a little more than each body.
      expect(sizes[0]).toBeGreaterThan(16 * MiB);
      expect(sizes[0]).toBeLessThan(16 * MiB + 1024);
      expect(sizes[1]).toBeGreaterThan(2 * MiB);
      expect(sizes[1]).toBeLessThan(2 * MiB + 1024);
    } finally {
      agent.destroy();
    }
    expect((await bicorn.stop()).code).toBe(0);
    // Nothing waited on disk: the client kept up, and the bytes did not pass through the worker.
    expect(bicorn.lines.find((l) => l.msg === 'python process stopped')?.spooledBytes).toEqual({ request: 0, response: 0 });
  });

  it('counts the bytes the Python process writes as the progress the request timeout looks for', { timeout: 30_000 }, async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--request-timeout', '1', '--chdir', fixture('python'), 'big_asgi:app']);
    const url = await bicorn.listening();
    // 64 events 25 ms apart: 1.6 s of a body that only the Python process writes.
    expect(await download(url, '/download?mb=16&pace_ms=25')).toMatchObject({ status: 200, bytes: 16 * MiB, intact: true });
    expect(bicorn.lines.some((l) => l.msg.includes('timed out'))).toBe(false);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.each(apps)('goes on serving after a client that leaves mid-body: $of', { timeout: 30_000 }, async ({ app }) => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), app]);
    const url = await bicorn.listening();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        const req = request(`${url}/download?mb=64`, { agent: false }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes >= 2 * MiB) req.destroy();
          });
        });
        req.on('close', resolve);
        req.end();
      });
    }
    expect(await download(url, '/download?mb=4')).toMatchObject({ status: 200, bytes: 4 * MiB, intact: true });
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it.each(apps)('never writes a byte past the Content-Length to the lent socket, the response cut there: $of', async ({ app }) => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), app]);
    const url = new URL(await bicorn.listening());
    // The app's first part is 1 MiB and 300 KiB of 'y' where the head says 1 MiB in all.
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.end('GET /download?mb=1&over_kb=300 HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => { resolve(Buffer.concat(chunks)); });
      socket.on('error', reject);
    });
    const body = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBe(MiB);
    expect(body.includes('y')).toBe(false);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('sends a large body without a Content-Length in frames, chunked, and a HEAD response without one', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), 'big_asgi:app']);
    const url = await bicorn.listening();
    const chunked = await download(url, '/download?mb=4&chunked=1');
    expect(chunked).toMatchObject({ status: 200, bytes: 4 * MiB, intact: true });
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    const head = await new Promise<IncomingMessage>((resolve, reject) => {
      request(`${url}/download?mb=4`, { method: 'HEAD', agent: false }, resolve).on('error', reject).end();
    });
    expect(head.headers['content-length']).toBe(String(4 * MiB));
    expect((await bicorn.stop()).code).toBe(0);
  });
});

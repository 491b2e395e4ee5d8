// The client's socket lent to a Python app's process (frames/SPEC.md, "Lending the client's
// socket" and "Receiving a body from the client's socket"), end to end with big_asgi.py and
// big_wsgi.py. Large response bodies: the bytes and the keep-alive connection after them, the
// request timeout and the access log counting what the Python process wrote, a client that
// leaves, and bodies that are not lent (a client that stops reading is flow-control.test.ts's).
// Large WSGI uploads: received by the Python process, the connection going on after them
// (pipelined requests too), a client that leaves or stalls midway, the request timeout.
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hasPython, noPython } from './support/python.js';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { rawExchange } from './support/front.js';
import { pollUntil } from './support/poll.js';
import { bytesRead, pythonPidOf, socketDescriptors } from './support/proc.js';

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

interface Answered {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/**
 * Writes `bytes` to a new connection to `url`, then reads `count` responses off it (each with a
 * Content-Length; a 100 Continue skipped), writing `then`, if given, after the first. Rejects if
 * the connection closes first.
 */
function exchange(url: string, bytes: Buffer, count: number, then?: Buffer): Promise<Answered[]> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const answers: Answered[] = [];
    let received = Buffer.alloc(0);
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (;;) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = received.subarray(0, end).toString('latin1');
        const length = Number(/^content-length: *(\d+)$/im.exec(head)?.[1] ?? 0);
        if (received.length < end + 4 + length) return;
        const body = received.subarray(end + 4, end + 4 + length).toString('latin1');
        received = received.subarray(end + 4 + length);
        const status = Number(head.split(' ')[1]);
        if (status === 100) continue;
        answers.push({ status, headers: head.toLowerCase(), body });
        if (answers.length === 1 && then !== undefined) socket.write(then);
        if (answers.length === count) {
          socket.destroy();
          resolve(answers);
          return;
        }
      }
    });
    socket.on('close', () => { reject(new Error(`the connection closed after ${String(answers.length)} of ${String(count)} responses`)); });
    socket.on('error', reject);
  });
}

function upload(bytes: number, path = '/upload'): Buffer {
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(bytes)}\r\n\r\n`), Buffer.alloc(bytes, 0x78)]);
}

/** The socket descriptors the app's Python process holds now. */
const pythonSockets = (bicorn: BicornProcess): number => socketDescriptors(pythonPidOf(bicorn.pid));

describe.skipIf(!hasPython)(`a WSGI app's Python process receiving large uploads from the client's socket itself${noPython}`, () => {
  it('gets every byte, never read by the worker, and the connection goes on with the requests after it, pipelined or not', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), 'big_wsgi:application']);
    const url = await bicorn.listening();
    const workerPid = bicorn.workerPid();
    const download = Buffer.from('GET /download?mb=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    const counted = (answers: Answered[]): (number | string)[] => answers.map((a) => (a.body.startsWith('{') ? (JSON.parse(a.body) as { bytes: number }).bytes : `${String(a.body.length)} bytes`));
    const readBefore = bytesRead(workerPid);
    const oneByOne = await exchange(url, upload(8 * MiB), 2, upload(2 * MiB));
    expect(oneByOne.map((a) => a.status)).toEqual([200, 200]);
    expect(counted(oneByOne)).toEqual([8 * MiB, 2 * MiB]);
    expect(oneByOne.every((a) => a.headers.includes('connection: keep-alive'))).toBe(true);
    // Neither upload passed through the worker (which reads the first 64 KiB or so of each).
    expect(bytesRead(workerPid) - readBefore).toBeLessThan(MiB);
    // An upload behind another's response waits for it in the worker, as node reads on for it;
    // so may the download behind them (a response queued behind another has no socket to lend).
    const pipelined = await exchange(url, Buffer.concat([upload(3 * MiB), upload(2 * MiB), download]), 3);
    expect(pipelined.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(counted(pipelined)).toEqual([3 * MiB, 2 * MiB, `${String(MiB)} bytes`]);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('drops the upload of a client that leaves midway, and of one that stalls past the request timeout, blaming neither on the app', { timeout: 30_000 }, async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--request-timeout', '1', '--chdir', fixture('python'), 'big_wsgi:application']);
    const url = new URL(await bicorn.listening());
    const worker = bicorn.workerPid();
    expect(JSON.parse((await exchange(url.href, upload(2 * MiB), 1))[0]?.body ?? '')).toMatchObject({ bytes: 2 * MiB });
    const idle = pythonSockets(bicorn);
    const start = upload(8 * MiB).subarray(0, 3 * MiB);
    const taken = (): Promise<true> => pollUntil('the Python process to take the socket', () => (pythonSockets(bicorn) > idle ? true : undefined));
    const dropped = (): Promise<true> => pollUntil('the Python process to close the socket', () => (pythonSockets(bicorn) === idle ? true : undefined));
    for (let i = 0; i < 2; i++) {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(start));
      socket.on('error', () => undefined);
      await taken();
      socket.destroy();
      await dropped();
    }
    // A stalled client gets its 504 at the request timeout, with the connection closed.
    const stalled = rawExchange(url.href, start, { timeoutMs: 10_000 });
    await taken();
    expect([(await stalled).status, (await stalled).closed]).toEqual([504, true]);
    await dropped();
    expect(JSON.parse((await exchange(url.href, upload(4 * MiB), 1))[0]?.body ?? '')).toMatchObject({ bytes: 4 * MiB });
    expect((await bicorn.stop()).code).toBe(0);
    // A client that stalls says nothing of the app: its worker served on.
    expect(bicorn.workerPids()).toEqual([worker]);
    expect(bicorn.lines.filter((l) => l.level >= 50 && l.msg !== 'request timed out; answering 504')).toEqual([]);
  });

  it('counts the bytes the Python process receives as the progress the request timeout looks for', { timeout: 30_000 }, async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--request-timeout', '1', '--chdir', fixture('python'), 'big_wsgi:application']);
    const url = new URL(await bicorn.listening());
    const bytes = upload(16 * MiB);
    const answered = new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(url.port), url.hostname);
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('}')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      // 32 pieces 60 ms apart: about 2 s of an upload that only the Python process reads.
      let sent = 0;
      const piece = bytes.length / 32;
      const next = (): void => {
        socket.write(bytes.subarray(sent, sent + piece));
        sent += piece;
        if (sent < bytes.length) setTimeout(next, 60);
      };
      next();
    });
    expect(await answered).toMatch(/^HTTP\/1\.1 200 [^]*"bytes": 16777216/);
    expect(bicorn.lines.some((l) => l.msg.includes('timed out'))).toBe(false);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

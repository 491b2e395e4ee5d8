// End-to-end flow control between client, worker and Python process, for WSGI (big_wsgi.py)
// and ASGI (big_asgi.py) apps: large bodies either way, the peak memory of worker and runner
// read from /proc (over TLS too), and a stalled client that does not hold the app.
import { request } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { hasPython, noPython } from './support/python.js';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { makeCa, makeCert } from './support/certificates.js';
import { peakRssKb } from './support/proc.js';
import { tempDir } from './support/temp-dir.js';

const GiB = 1024 * 1024 * 1024;
/** The ASGI bodies: well past what a worker or runner may hold, and done in a few seconds. */
const ASGI_BYTES = 512 * 1024 * 1024;
/** Generous bounds: a worker or runner that held the body would be past 1 GiB. */
const WORKER_PEAK_LIMIT_KB = 250 * 1024;
const RUNNER_PEAK_LIMIT_KB = 120 * 1024;

function upload(url: string, bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-length': String(bytes) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (text += part));
      res.on('end', () => {
        resolve(text);
      });
    });
    req.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/**
 * Counts what a response body brings, reading as fast as it can; `slowFirst`: slowly at first
 * (pausing after every 4 MiB of the first 256 MiB). Resolves with the count at its end.
 */
function readBody(body: Readable, slowFirst: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = 0;
    let sinceLastPause = 0;
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      sinceLastPause += chunk.length;
      if (slowFirst && received < 256 * 1024 * 1024 && sinceLastPause >= 4 * 1024 * 1024) {
        sinceLastPause = 0;
        body.pause();
        setTimeout(() => body.resume(), 20);
      }
    });
    body.on('end', () => {
      resolve(received);
    });
    body.on('error', reject);
  });
}

/** GETs `url` over HTTP/1.1 (TLS for https://) and reads its body as readBody does. */
function download(url: string, slowFirst: boolean): Promise<number> {
  const send = url.startsWith('https:') ? httpsRequest : request;
  return new Promise((resolve, reject) => {
    send(url, { agent: false, rejectUnauthorized: false }, (res) => {
      readBody(res, slowFirst).then(resolve, reject);
    })
      .on('error', reject)
      .end();
  });
}

/** The same over HTTP/2 (h2c with prior knowledge), on a connection of its own, slowly at first. */
async function downloadH2(url: string): Promise<number> {
  const { pathname, search } = new URL(url);
  const client = h2connect(url);
  try {
    return await new Promise<number>((resolve, reject) => {
      client.once('error', reject);
      readBody(client.request({ ':path': pathname + search }), true).then(resolve, reject);
    });
  } finally {
    client.close();
  }
}

/** --certfile and --keyfile of a certificate made for the test. */
function certificateFlags(): string[] {
  const dir = tempDir('bicorn-flow-tls-');
  const server = makeCert(dir, 'server', makeCa(dir, 'ca'), 'server');
  return ['--certfile', server.certFile, '--keyfile', server.keyFile];
}

describe.skipIf(!hasPython)(`flow control between client, worker and Python process${noPython}`, () => {
  it.each([
    { of: 'a WSGI app, so its thread serves others', app: 'big_wsgi:application' },
    // Its Python process writes to the client's socket itself until the client falls behind.
    { of: 'an ASGI app, which gives the lent socket back', app: 'big_asgi:app' },
  ])('lets the app finish a response its client does not read yet: $of', async ({ app }) => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--threads', '1', '--chdir', fixture('python'), app]);
    const url = await bicorn.listening();
    let received = 0;
    const stalled = request(`${url}/download?mb=64`, { agent: false }, (res) => {
      res.pause(); // a client that reads nothing for now
      res.on('data', (chunk: Buffer) => (received += chunk.length));
    });
    stalled.on('error', () => undefined);
    stalled.end();
    // 64 MiB is far past the window and the socket buffers: the app got to its end only
    // because the worker took the rest on disk.
    await bicorn.waitForLog('the app to finish', (l) => l.stream === 'stdout' && l.msg.startsWith('download done'));
    expect(received).toBe(0);
    const other = await new Promise<number>((resolve, reject) => {
      request(`${url}/download?mb=1`, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => { resolve(bytes); });
      }).on('error', reject).end();
    });
    expect(other).toBe(1024 * 1024);
    stalled.destroy();
    expect((await bicorn.stop()).code).toBe(0);
    // The worker counts what it spooled, and says so as its Python process stops: most of the
    // 64 MiB, which the stalled client never took.
    const stopped = bicorn.lines.find((l) => l.msg === 'python process stopped');
    expect(stopped?.spooledBytes).toMatchObject({ request: 0 });
    expect((stopped?.spooledBytes as { response: number } | undefined)?.response).toBeGreaterThan(32 * 1024 * 1024);
  });

  it('moves a 1 GiB upload to a slow-reading app without the worker or runner holding it', { timeout: 120_000 }, async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), 'big_wsgi:application']);
    const url = await bicorn.listening();
    const workerPid = bicorn.workerPid();
    const answer = JSON.parse(await upload(`${url}/upload`, GiB)) as { bytes: number; peak_rss_kb: number };
    expect(answer.bytes).toBe(GiB);
    expect(answer.peak_rss_kb).toBeLessThan(RUNNER_PEAK_LIMIT_KB);
    expect(peakRssKb(workerPid)).toBeLessThan(WORKER_PEAK_LIMIT_KB);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('moves a 512 MiB upload to a slow-reading ASGI app as it arrives, without the worker or runner holding it', { timeout: 60_000 }, async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), 'big_asgi:app']);
    const url = await bicorn.listening();
    const workerPid = bicorn.workerPid();
    const answer = JSON.parse(await upload(`${url}/upload`, ASGI_BYTES)) as { bytes: number; events: number; peak_rss_kb: number };
    expect(answer.bytes).toBe(ASGI_BYTES);
    // Streamed: many events of at most the window each.
    expect(answer.events).toBeGreaterThan(ASGI_BYTES / (1024 * 1024));
    expect(answer.peak_rss_kb).toBeLessThan(RUNNER_PEAK_LIMIT_KB);
    expect(peakRssKb(workerPid)).toBeLessThan(WORKER_PEAK_LIMIT_KB);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.each([
    { size: '1 GiB', of: 'a WSGI app', app: 'big_wsgi:application', bytes: GiB, tls: false },
    { size: '512 MiB', of: 'an ASGI app', app: 'big_asgi:app', bytes: ASGI_BYTES, tls: false },
    { size: '512 MiB', of: 'a WSGI app over TLS', app: 'big_wsgi:application', bytes: ASGI_BYTES, tls: true },
  ])('streams a $size response of $of to a slow client without the worker or runner holding it', { timeout: 120_000 }, async ({ app, bytes, tls }) => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), ...(tls ? certificateFlags() : []), app], { https: tls });
    const url = await bicorn.listening();
    const workerPid = bicorn.workerPid();
    expect(await download(`${url}/download?mb=${String(bytes / (1024 * 1024))}`, true)).toBe(bytes);
    const done = await bicorn.waitForLog('the app to finish', (l) => l.stream === 'stdout' && l.msg.startsWith('download done'));
    expect(Number(/peak_rss_kb=(\d+)/.exec(done.msg)?.[1])).toBeLessThan(RUNNER_PEAK_LIMIT_KB);
    expect(peakRssKb(workerPid)).toBeLessThan(WORKER_PEAK_LIMIT_KB);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('streams a 512 MiB response over HTTP/2 to a slow client without the worker or runner holding it', { timeout: 120_000 }, async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--http-protocols', 'h2,h1', '--http2-cleartext', 'prior-knowledge', '--chdir', fixture('python'), 'big_asgi:app']);
    const url = await bicorn.listening();
    const workerPid = bicorn.workerPid();
    expect(await downloadH2(`${url}/download?mb=${String(ASGI_BYTES / (1024 * 1024))}`)).toBe(ASGI_BYTES);
    const done = await bicorn.waitForLog('the app to finish', (l) => l.stream === 'stdout' && l.msg.startsWith('download done'));
    expect(Number(/peak_rss_kb=(\d+)/.exec(done.msg)?.[1])).toBeLessThan(RUNNER_PEAK_LIMIT_KB);
    expect(peakRssKb(workerPid)).toBeLessThan(WORKER_PEAK_LIMIT_KB);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.each([
    { of: 'a WSGI app', app: 'big_wsgi:application' },
    { of: 'an ASGI app', app: 'big_asgi:app' },
  ])('puts nothing on disk for a 256 MiB response of $of to a client that reads at full speed', { timeout: 60_000 }, async ({ app }) => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), app]);
    const url = await bicorn.listening();
    expect(await download(`${url}/download?mb=256`, false)).toBe(256 * 1024 * 1024);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.find((l) => l.msg === 'python process stopped')?.spooledBytes).toEqual({ request: 0, response: 0 });
  });

  it('keeps a WSGI upload that fits upload_memory and the stream window off the disk, and spools one that does not', { timeout: 60_000 }, async () => {
    const MiB = 1024 * 1024;
    // Past the stream window, an upload would go to disk for the Python process to read it there.
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), '--upload-memory', String(8 * MiB), '--stream-window', String(8 * MiB), 'big_wsgi:application']);
    const url = await bicorn.listening();
    for (const size of [4 * MiB, 16 * MiB]) expect((JSON.parse(await upload(`${url}/upload`, size)) as { bytes: number }).bytes).toBe(size);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.find((l) => l.msg === 'python process stopped')?.spooledBytes).toEqual({ request: 16 * MiB, response: 0 });
  });

  it.each([
    { of: 'a WSGI app under --no-request-buffering', args: ['--no-request-buffering', 'big_wsgi:application'] },
    { of: 'an ASGI app', args: ['big_asgi:app'] },
  ])('puts nothing on disk for a 256 MiB upload to $of from a client that sends at full speed', { timeout: 60_000 }, async ({ args }) => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', fixture('python'), ...args]);
    const url = await bicorn.listening();
    const answer = JSON.parse(await upload(`${url}/upload`, 256 * 1024 * 1024)) as { bytes: number };
    expect(answer.bytes).toBe(256 * 1024 * 1024);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.find((l) => l.msg === 'python process stopped')?.spooledBytes).toEqual({ request: 0, response: 0 });
  });
});

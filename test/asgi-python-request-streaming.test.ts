// End-to-end checks that a Python ASGI app gets its request body as it arrives (the worker
// does not receive it whole first, as it does for WSGI apps): an answer to half an upload, the
// http.disconnect of a client that leaves mid-upload, and the headers as the client sent them.
// The fixture is test/fixtures/python/raw_asgi.py.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { post } from './support/http.js';
import { hasPython, noPython } from './support/python.js';
import { serveRaw } from './support/raw-asgi.js';

/** An HTTP/1.1 connection driven byte by byte: the test says when each part of a request goes. */
interface RawResponse {
  readonly status: number;
  /** Header names lower-cased, in order. */
  readonly headers: [string, string][];
  readonly body: string;
}

class RawConnection {
  readonly socket: Socket;
  readonly opened: Promise<void>;
  #buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect({ host: hostname, port: Number(port) });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    this.socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next response, whose body has a Content-Length; fails by name after `timeoutMs`. */
  async response(what: string, timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = this.#take();
      if (parsed !== undefined) return parsed;
      if (this.#closed) throw new Error(`the connection closed before ${what}; it had ${this.#buffer.toString('latin1')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${String(timeoutMs)} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  #take(): RawResponse | undefined {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const [statusLine = '', ...lines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const status = Number(statusLine.split(' ')[1]);
    // Informational responses (100, 103) have no body.
    if (status < 200) {
      this.#buffer = this.#buffer.subarray(end + 4);
      return this.#take();
    }
    const length = Number(headers.find(([name]) => name === 'content-length')?.[1] ?? 'NaN');
    if (Number.isNaN(length)) throw new Error(`a response without Content-Length: ${statusLine}`);
    if (this.#buffer.length < end + 4 + length) return undefined;
    const body = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    return { status, headers, body };
  }
}

describe.skipIf(!hasPython)(`a Python ASGI app reading a request body as it arrives${noPython}`, () => {
  it('answers after the first http.request event while the client still holds back the rest, and the connection then goes on', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const connection = new RawConnection(url);
    try {
      await connection.opened;
      const half = Buffer.alloc(100_000, 0x61);
      connection.write(`POST /first-event HTTP/1.1\r\nHost: test\r\nContent-Length: ${String(2 * half.length)}\r\n\r\n`);
      connection.write(half);
      // A worker that waited for the whole body would never let the app answer this.
      const answer = await connection.response('answer to the first half of the upload');
      expect(answer.status).toBe(200);
      const first = JSON.parse(answer.body) as { type: string; size: number; more_body: boolean };
      expect(first).toMatchObject({ type: 'http.request', more_body: true });
      expect(first.size).toBeGreaterThan(0);
      expect(first.size).toBeLessThanOrEqual(half.length);
      // The unread rest is discarded, and the next request on the connection is served.
      connection.write(half);
      connection.write('GET /loop HTTP/1.1\r\nHost: test\r\n\r\n');
      expect((await connection.response('answer to the next request on the connection')).status).toBe(200);
    } finally {
      connection.destroy();
    }
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('gives the app http.disconnect when the client leaves in the middle of an upload', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const connection = new RawConnection(url);
    try {
      await connection.opened;
      connection.write('POST /upload-watch HTTP/1.1\r\nHost: test\r\nContent-Length: 1048576\r\n\r\n');
      connection.write(Buffer.alloc(64 * 1024, 0x62));
      await bicorn.waitForLog('the app reading the upload', (l) => l.msg === 'raw_asgi: upload started');
    } finally {
      connection.destroy();
    }
    const ended = await bicorn.waitForLog('the app seeing the client leave', (l) => l.msg.startsWith('raw_asgi: upload ended by http.disconnect'));
    expect(Number(/after (\d+) bytes/.exec(ended.msg)?.[1])).toBeLessThanOrEqual(64 * 1024);
    expect((await get200(url)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('gives the app the request headers in order as the client sent them: a chunked upload keeps Transfer-Encoding and has no Content-Length', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const chunked = JSON.parse((await post(`${url}/upload`, ['ab', 'cd', 'ef'], { 'X-First': 'one', 'x-second': 'Two' })).body) as { size: number; headers: [string, string][] };
    expect(chunked.size).toBe(6);
    const names = chunked.headers.map(([name]) => name);
    expect(names).not.toContain('content-length');
    expect(chunked.headers).toContainEqual(['transfer-encoding', 'chunked']);
    expect(names.indexOf('x-first')).toBeLessThan(names.indexOf('x-second'));
    expect(chunked.headers).toContainEqual(['x-second', 'Two']);
    const sized = JSON.parse((await post(`${url}/upload`, 'abcdef')).body) as { size: number; headers: [string, string][] };
    expect(sized.size).toBe(6);
    expect(sized.headers).toContainEqual(['content-length', '6']);
    expect(sized.headers.map(([name]) => name)).not.toContain('transfer-encoding');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

/** A request on a fresh connection, to show the worker still serves. */
async function get200(url: string): Promise<{ status: number }> {
  const connection = new RawConnection(url);
  try {
    await connection.opened;
    connection.write('GET /loop HTTP/1.1\r\nHost: test\r\n\r\n');
    return await connection.response('an answer on a new connection');
  } finally {
    connection.destroy();
  }
}

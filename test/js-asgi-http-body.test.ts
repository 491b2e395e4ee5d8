import { connect } from 'node:net';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';

const APP = fixture('apps/asgi-body.mjs');

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Whether the body was all there, as its framing said. */
  readonly complete: boolean;
}

/** Writes the requests back to back on one connection (the last asks to close) and reads until the server closes it. */
function pipelined(url: string, requests: readonly (readonly [method: string, path: string])[]): Promise<{ raw: string; responses: RawResponse[] }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (raw += chunk));
    // A cut connection may end with a reset; what arrived before it is the point.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      resolve({ raw, responses: parseResponses(raw, requests.map(([method]) => method)) });
    });
    const last = requests.length - 1;
    socket.write(requests.map(([method, path], i) => `${method} ${path} HTTP/1.1\r\nhost: test\r\n${i === last ? 'connection: close\r\n' : ''}\r\n`).join(''));
  });
}

/** Splits what came back into responses, by their framing (HEAD, 204 and 304 have no body). */
function parseResponses(raw: string, methods: readonly string[]): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = raw;
  for (const method of methods) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    const status = Number(statusLine.split(' ')[1]);
    rest = rest.slice(end + 4);
    let body = '';
    let complete = true;
    if (method === 'HEAD' || status === 204 || status === 304) {
      // No body, whatever the headers say.
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      body = rest.slice(0, length);
      complete = body.length === length;
      rest = rest.slice(length);
    } else {
      complete = false;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd < 0) break;
        const size = parseInt(rest.slice(0, lineEnd), 16);
        rest = rest.slice(lineEnd + 2);
        if (size === 0) {
          complete = rest.startsWith('\r\n');
          rest = rest.slice(2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    }
    responses.push({ status, headers, body, complete });
  }
  return responses;
}

async function serve(args: readonly string[] = []): Promise<{ bicorn: BicornProcess; url: string }> {
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...args, APP]);
  return { bicorn, url: await bicorn.listening() };
}

const violation = (l: { msg: string }) => l.msg === 'ASGI app broke its Content-Length';
const errors = (bicorn: BicornProcess) => bicorn.lines.filter((l) => l.level >= 50);

describe("the Content-Length of a JavaScript ASGI app's response", () => {
  it('answers 500 to a body longer than its Content-Length, and the next request on the connection gets its own response whole', async () => {
    const { bicorn, url } = await serve();
    const { responses } = await pipelined(url, [['GET', '/long'], ['GET', '/after']]);
    expect(responses).toMatchObject([
      { status: 500, body: 'Internal Server Error\n', complete: true },
      { status: 200, body: 'next /after', complete: true },
    ]);
    const line = await bicorn.waitForLog('the Content-Length error', violation);
    expect(line).toMatchObject({ level: 50, path: '/long', rule: 'http.response.body: the body is longer than the 3 bytes of its content-length' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 to a final body shorter than its Content-Length, and keeps the connection', async () => {
    const { bicorn, url } = await serve();
    const { responses } = await pipelined(url, [['GET', '/short'], ['GET', '/after']]);
    expect(responses).toMatchObject([{ status: 500, complete: true }, { status: 200, body: 'next /after', complete: true }]);
    expect((await bicorn.waitForLog('the Content-Length error', violation)).rule).toMatch(/ends at 5 bytes, short of the 10/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('cuts the connection when a streamed body runs past its Content-Length, so no byte of it reaches the next response', async () => {
    const { bicorn, url } = await serve();
    const { raw, responses } = await pipelined(url, [['GET', '/long-streamed'], ['GET', '/after']]);
    expect(responses).toEqual([expect.objectContaining({ status: 200, body: 'hel', complete: false })]);
    expect(raw).not.toContain('lo!!');
    expect(raw).not.toContain('next /after');
    expect((await bicorn.waitForLog('the Content-Length error', violation)).path).toBe('/long-streamed');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('ends a response at once when its first part is the whole declared body, and drops what the app sends past it', async () => {
    const { bicorn, url } = await serve();
    const { raw, responses } = await pipelined(url, [['GET', '/whole-then-more'], ['GET', '/after']]);
    expect(responses).toMatchObject([
      { status: 200, body: 'hello', complete: true },
      { status: 200, body: 'next /after', complete: true },
    ]);
    expect(raw).not.toContain('SPLIT');
    expect((await bicorn.waitForLog('the Content-Length error', violation)).path).toBe('/whole-then-more');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('cuts the connection when a streamed body ends short of its Content-Length', async () => {
    const { bicorn, url } = await serve();
    const { responses } = await pipelined(url, [['GET', '/short-streamed'], ['GET', '/after']]);
    expect(responses).toEqual([expect.objectContaining({ status: 200, body: 'hello', complete: false })]);
    expect((await bicorn.waitForLog('the Content-Length error', violation)).rule).toMatch(/short of the 10/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('keeps a body that matches its Content-Length over several events, and binds no body to HEAD, 204 and 304', async () => {
    const { bicorn, url } = await serve();
    const { responses } = await pipelined(url, [
      ['GET', '/exact-streamed'],
      ['HEAD', '/sized'],
      ['GET', '/not-modified'],
      ['GET', '/no-content'],
      ['GET', '/sized'],
      ['GET', '/after'],
    ]);
    expect(responses.map((r) => [r.status, r.body.length, r.complete])).toEqual([
      [200, 5, true],
      [200, 0, true],
      [304, 0, true],
      [204, 0, true],
      [200, 1234, true],
      [200, 'next /after'.length, true],
    ]);
    expect(responses.map((r) => r.headers['content-length'])).toEqual(['5', '1234', '1234', expect.anything(), '1234', undefined]);
    expect(responses[0]?.body).toBe('hello');
    expect(errors(bicorn)).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('a JavaScript ASGI app whose client leaves mid-response', () => {
  it('gets ClientDisconnected out of send() and http.disconnect from receive(), and the server logs no error', async () => {
    const { bicorn, url } = await serve(['--log-level', 'debug']);
    await new Promise<void>((resolve, reject) => {
      const req = request(`${url}/stream`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET') reject(error);
      });
      req.end();
    });
    const stopped = await bicorn.waitForLog("the app's report", (l) => l.msg === 'fixture stream stopped');
    expect(stopped).toMatchObject({ error: 'ClientDisconnected', code: 'ECONNRESET', receive: 'http.disconnect' });
    expect(stopped.chunks).toBeGreaterThan(0);
    await bicorn.waitForLog('the debug line for the rethrown error', (l) => l.msg === 'ASGI app stopped: the client disconnected');
    expect(errors(bicorn)).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

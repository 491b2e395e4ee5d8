// End-to-end checks that Python apps get the requests JavaScript apps get: no early hints or
// trailers offered to HTTP/1.0, and the path of an absolute-form request target (what an app may
// send back is pinned by protocol's send vectors). Fixtures: raw_asgi.py and validated_wsgi.py.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hasPython, noPython, servePython } from './support/python.js';
import { serveRaw } from './support/raw-asgi.js';

interface Exchange {
  readonly status: number;
  readonly head: string;
  /** The body bytes as they came on the wire, chunk framing included. */
  readonly body: string;
}

/** Writes a request byte for byte on a new connection and reads until the server closes it. */
function exchange(url: string, request: string): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no complete answer within 10 s')));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.split(' ')[1]), head: text.slice(0, end), body: text.slice(end + 4) });
    });
  });
}

/** The data of a chunked body, or undefined when the bytes are not well-formed chunks. */
function dechunk(body: string): string | undefined {
  let data = '';
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(body.slice(at, lineEnd), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return body.slice(lineEnd + 2) === '\r\n' ? data : undefined;
    data += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

const request = (line: string, headers: readonly string[] = []): string => [line, 'Host: test', ...headers, 'Connection: close', '', ''].join('\r\n');

describe.skipIf(!hasPython)(`Python apps get the requests JS apps get${noPython}`, () => {
  it('offers an HTTP/1.0 client neither early hints nor trailers, and sends it no 103', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const old = await exchange(url, request('GET /extensions HTTP/1.0', ['TE: trailers']));
    expect(JSON.parse(old.body)).toEqual(['http.response.pathsend']);
    const current = await exchange(url, request('GET /extensions HTTP/1.1', ['TE: trailers']));
    expect(JSON.parse(current.body)).toEqual(['http.response.early_hint', 'http.response.pathsend', 'http.response.trailers']);
    const hinted = await exchange(url, request('GET /early-hint HTTP/1.0'));
    expect(hinted.head).toMatch(/^HTTP\/1\.1 501 /);
    expect(hinted.body).not.toContain('103');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('gives an absolute-form request target (GET http://host/path?q) its path and query', async () => {
    const asgi = serveRaw();
    const asgiUrl = await asgi.listening();
    const scope = JSON.parse((await exchange(asgiUrl, request('GET http://example.com/scope/abs%20olute?q=1&r=/x HTTP/1.1'))).body) as Record<string, unknown>;
    expect(scope).toMatchObject({ path: '/scope/abs olute', raw_path: '/scope/abs%20olute', query_string: 'q=1&r=/x' });
    expect((await asgi.stop()).code).toBe(0);

    const wsgi = servePython('validated_wsgi:application');
    const wsgiUrl = await wsgi.listening();
    const environ = JSON.parse(dechunk((await exchange(wsgiUrl, request('GET http://example.com/environ?q=1 HTTP/1.1'))).body) ?? '') as Record<string, unknown>;
    expect(environ).toMatchObject({ PATH_INFO: '/environ', QUERY_STRING: 'q=1' });
    expect((await wsgi.stop()).code).toBe(0);
  });
});

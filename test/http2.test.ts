import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as h2connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, runBicorn } from './support/bicorn-process.js';
import { askJson, frontApp, runnableApps, serveFront, type FrontApp } from './support/front.js';
import { get } from './support/http.js';
import { hasPython, noPython, servePython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const H2C = ['--http-protocols', 'h2,h1', '--http2-cleartext', 'prior-knowledge'];

interface H2Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The RST_STREAM code when the server reset the stream, else undefined. */
  readonly reset: number | undefined;
  /** Informational heads (a 103) before the response, and the trailers after it. */
  readonly informational: readonly IncomingHttpHeaders[];
  readonly trailers: IncomingHttpHeaders;
}

/** An HTTP/2 connection to `url` (h2 by ALPN for https://, h2c with prior knowledge for http://). */
function session(url: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const client = h2connect(url, { rejectUnauthorized: false });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

interface H2Request {
  readonly method?: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Sent in pieces of at most 64 KiB as the stream takes them. */
  readonly body?: Buffer;
}

function ask(client: ClientHttp2Session, path: string, options: H2Request = {}): Promise<H2Answer> {
  return new Promise((resolve) => {
    const stream = client.request({ ':path': path, ':method': options.method ?? (options.body === undefined ? 'GET' : 'POST'), ...options.headers }, { endStream: options.body === undefined });
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const informational: IncomingHttpHeaders[] = [];
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('headers', (info: IncomingHttpHeaders) => {
      informational.push(info);
    });
    stream.on('response', (head) => {
      headers = head;
      status = Number(head[':status']);
    });
    stream.on('trailers', (received: IncomingHttpHeaders) => {
      trailers = received;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      resolve({ status, headers, body: Buffer.concat(chunks), reset: stream.rstCode === constants.NGHTTP2_NO_ERROR ? undefined : stream.rstCode, informational, trailers });
    });
    if (options.body !== undefined) stream.end(options.body);
  });
}

/** Asks on a new connection, closed after the answer. */
async function askOnce(url: string, path: string, options: H2Request = {}): Promise<H2Answer> {
  const client = await session(url);
  try {
    return await ask(client, path, options);
  } finally {
    client.close();
  }
}

/** What the TLS handshake chose by ALPN when a client offers h2 and http/1.1. */
function negotiated(url: string): Promise<string | false | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      resolve(socket.alpnProtocol);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const json = (answer: H2Answer): Record<string, unknown> => JSON.parse(answer.body.toString()) as Record<string, unknown>;

/** The echo apps that say their HTTP version (a fetch Request has no place for it). */
const tellsVersion = (app: FrontApp): boolean => app.name !== 'fetch';

describe('HTTP/2 by ALPN on a TLS bind', () => {
  describe.each(runnableApps.filter((app) => app.name !== 'node'))('for the $name interface', (app) => {
    it('serves HTTP/2 to a client that asks for it and HTTP/1.1 to one that does not, on one bind', async () => {
      const bicorn = serveFront(app, ['--http-protocols', 'h2,h1'], 'TLS');
      const url = await bicorn.listening();
      const answer = await askOnce(url, '/upload', { body: Buffer.from('abcdef') });
      expect(answer.status).toBe(200);
      expect(answer.headers.server).toBe('bicorn');
      expect(json(answer)).toMatchObject({ scheme: 'https', host: new URL(url).host, path: '/upload', body_length: 6, ...(tellsVersion(app) ? { protocol: 'HTTP/2' } : {}) });
      const http1 = await askJson(url, '/plain');
      expect(http1).toMatchObject({ scheme: 'https', path: '/plain', ...(tellsVersion(app) ? { protocol: 'HTTP/1.1' } : {}) });
      expect((await bicorn.stop()).code).toBe(0);
    });
  });

  it('offers a Node request listener HTTP/1.1 by ALPN, and HTTP/2 when http_protocols is h2 alone', async () => {
    const both = serveFront(frontApp('node'), ['--http-protocols', 'h2,h1'], 'TLS');
    expect(await negotiated(await both.listening())).toBe('http/1.1');
    expect((await both.stop()).code).toBe(0);
    const h2only = serveFront(frontApp('node'), ['--http-protocols', 'h2'], 'TLS');
    const url = await h2only.listening();
    expect(await negotiated(url)).toBe('h2');
    expect(json(await askOnce(url, '/node'))).toMatchObject({ path: '/node', protocol: 'HTTP/2.0' });
    expect((await h2only.stop()).code).toBe(0);
  });

  it('keeps offering HTTP/1.1 alone by default', async () => {
    const bicorn = serveFront(frontApp('fetch'), [], 'TLS');
    expect(await negotiated(await bicorn.listening())).toBe('http/1.1');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('h2c with prior knowledge', () => {
  it('serves HTTP/2 to a client that starts with the preface and HTTP/1.1 to the others, on one plain bind', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), H2C);
    const url = await bicorn.listening();
    const answer = await askOnce(url, '/h2c', { body: Buffer.from('abc') });
    expect(json(answer)).toMatchObject({ scheme: 'http', path: '/h2c', body_length: 3, protocol: 'HTTP/2' });
    expect(await askJson(url, '/h1')).toMatchObject({ path: '/h1', protocol: 'HTTP/1.1' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('is a config error without h2 in http_protocols, and by Upgrade it cannot be served', async () => {
    const alone = await runBicorn(['--check-config', '--http2-cleartext', 'prior-knowledge', fixture('apps/fetch.mjs')]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('http2_cleartext (from --http2-cleartext): serves HTTP/2, which http_protocols (from default) leaves out; set http_protocols to h2,h1');
    const upgrade = await runBicorn(['--check-config', '--http2-cleartext', 'upgrade', fixture('apps/fetch.mjs')]);
    expect(upgrade.code).toBe(2);
    expect(upgrade.stderr).toContain('Node.js has no API for h2c by an Upgrade header');
  });
});

describe('HTTP/2 streams', () => {
  it.skipIf(!hasPython)(`streams a large upload and its echo both ways under flow control, and a large download${noPython}`, async () => {
    const bicorn = servePython('stream_asgi:app', [...H2C, '-b', '127.0.0.1:0']);
    const url = await bicorn.listening();
    const client = await session(url);
    const upload = randomBytes(4 * 1024 * 1024);
    const [echo, download, version] = await Promise.all([ask(client, '/echo', { body: upload }), ask(client, '/download?n=8388608'), ask(client, '/')]);
    expect(echo.status).toBe(200);
    expect(createHash('sha256').update(echo.body).digest('hex')).toBe(createHash('sha256').update(upload).digest('hex'));
    expect(download.body.length).toBe(8 * 1024 * 1024);
    expect(version.body.toString()).toBe('done 2');
    client.close();
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('refuses a request over a limit on its stream alone', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), [...H2C, '--limit-request-body', '1000', '--limit-request-fields', '5']);
    const url = await bicorn.listening();
    const client = await session(url);
    const [streamed, declared, fields, fine] = await Promise.all([
      ask(client, '/streamed', { body: Buffer.alloc(100_000) }),
      ask(client, '/declared', { body: Buffer.alloc(2000), headers: { 'content-length': '2000' } }),
      ask(client, '/fields', { headers: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x-field-${String(i)}`, 'v'])) }),
      ask(client, '/fine', { body: Buffer.alloc(1000) }),
    ]);
    expect(streamed.status).toBe(413);
    expect(declared.status).toBe(413);
    expect(fields.status).toBe(431);
    expect(json(fine)).toMatchObject({ path: '/fine', body_length: 1000 });
    expect((await ask(client, '/after')).status).toBe(200);
    client.close();
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 504 to a stalled stream and leaves the others on its connection', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...H2C, '--request-timeout', '0.5', fixture('apps/hang.mjs')]);
    const url = await bicorn.listening();
    const client = await session(url);
    const hang = ask(client, '/hang');
    const echo = ask(client, '/echo', { body: Buffer.from('still here') });
    expect((await echo).body.toString()).toBe('still here');
    expect(await hang).toMatchObject({ status: 504 });
    expect((await hang).body.toString()).toBe('Gateway Timeout\n');
    expect((await ask(client, '/')).status).toBe(200);
    client.close();
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('writes one access line per stream', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), [...H2C, '--access-logfile', '-', '--access-logformat', '%(h)s "%(r)s" %(s)s %(b)s']);
    const url = await bicorn.listening();
    const client = await session(url);
    await Promise.all([ask(client, '/one'), ask(client, '/two?x=1')]);
    client.close();
    const lines = (): string[] => bicorn.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
    await bicorn.waitForLog('two access lines', () => lines().length === 2);
    expect(lines().sort()).toEqual([expect.stringMatching(/^127\.0\.0\.1 "GET \/one HTTP\/2\.0" 200 \d+$/), expect.stringMatching(/^127\.0\.0\.1 "GET \/two\?x=1 HTTP\/2\.0" 200 \d+$/)]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('on a graceful stop sends GOAWAY and lets a stream in flight finish', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...H2C, fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const client = await session(url);
    const goaway = new Promise<void>((resolve) => client.once('goaway', () => resolve()));
    const slow = ask(client, '/slow?ms=1000');
    await bicorn.waitForLog('the slow request to start', (l) => l.msg === 'slow request started');
    bicorn.signal('SIGTERM');
    await goaway;
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.reset).toBeUndefined();
    expect(await bicorn.exited).toEqual({ code: 0, signal: null });
  });

  it('closes a connection idle for keep_alive with GOAWAY', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), [...H2C, '--keep-alive', '1']);
    const url = await bicorn.listening();
    const client = await session(url);
    const closed = new Promise<boolean>((resolve) => {
      let goaway = false;
      client.once('goaway', () => (goaway = true));
      client.once('close', () => resolve(goaway));
    });
    expect((await ask(client, '/')).status).toBe(200);
    expect(await closed).toBe(true);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('sends no connection-specific field, even when the app sets one', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...H2C, '--http-protocols', 'h2', `${fixture('apps/node.mjs')}:app`]);
    const url = await bicorn.listening();
    const answer = await askOnce(url, '/hop-by-hop');
    expect(answer.status).toBe(200);
    for (const name of ['connection', 'keep-alive', 'transfer-encoding']) expect(answer.headers[name]).toBeUndefined();
    // HTTP/1.1 is not served with h2 alone.
    await expect(get(`${url}/`)).rejects.toThrow();
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("adds the server's default headers to a response that lacks them, and leaves the app's own, set one by one or in writeHead, in any case", async () => {
    const bicorn = serveFront(frontApp('node'), [...H2C, '--http-protocols', 'h2', '--header', 'X-Frame-Options:DENY']);
    const url = await bicorn.listening();
    const fields = async (path: string) => {
      const answer = await askOnce(url, path);
      return [answer.status, answer.headers.server, answer.headers['x-frame-options']];
    };
    expect(await fields('/')).toEqual([200, 'bicorn', 'DENY']);
    expect(await fields('/own-server')).toEqual([200, 'own', 'DENY']);
    expect(await fields('/own-head')).toEqual([200, 'own', 'SAMEORIGIN']);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('the ASGI response extensions over HTTP/2', () => {
  const app = fixture('apps/asgi-full.mjs');

  it('sends trailers, a pathsend file and an early hint on HTTP/2 streams as on HTTP/1.1', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...H2C, app]);
    const client = await session(await bicorn.listening());
    try {
      const trailed = await ask(client, '/trailers', { headers: { te: 'trailers' } });
      expect(trailed).toMatchObject({ status: 200, trailers: { 'x-checksum': 'abc123' } });
      expect(trailed.body.toString()).toBe('with trailers');
      const file = await ask(client, '/file');
      const expected = readFileSync(app);
      expect(file.status).toBe(200);
      expect(file.headers['content-length']).toBe(String(expected.length));
      expect(file.body.equals(expected)).toBe(true);
      const hinted = await ask(client, '/hints');
      expect(hinted.informational).toEqual([expect.objectContaining({ ':status': 103, link: '</style.css>; rel=preload; as=style' })]);
      expect(hinted.body.toString()).toBe('hinted');
    } finally {
      client.close();
    }
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe.skipIf(!hasPython)(`the ASGI response extensions of a Python app over HTTP/2${noPython}`, () => {
  it('sends its trailers, pathsend file and early hints on HTTP/2 streams', async () => {
    const bicorn = servePython('raw_asgi:app', H2C);
    const client = await session(await bicorn.listening());
    try {
      const trailed = await ask(client, '/trailers', { headers: { te: 'trailers' } });
      expect(trailed.body.toString()).toBe('one\ntwo\nthree\n');
      expect(trailed.trailers['x-checksum']).toBe(createHash('sha256').update('one\ntwo\nthree\n').digest('hex'));
      const file = await ask(client, '/pathsend');
      expect(file.status).toBe(200);
      expect(file.body.equals(readFileSync(new URL('fixtures/python/raw_asgi.py', import.meta.url)))).toBe(true);
      const hinted = await ask(client, '/early-hint');
      expect(hinted.informational).toEqual([expect.objectContaining({ ':status': 103, link: '</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script' })]);
      expect(hinted.body.toString()).toBe('hinted');
    } finally {
      client.close();
    }
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('static files over HTTP/2', () => {
  it('serves a file, a 304 for its ETag and a range, on streams of one connection', async () => {
    const dir = tempDir('bicorn-h2-static-');
    mkdirSync(join(dir, 'public'));
    const content = randomBytes(300_000);
    writeFileSync(join(dir, 'public', 'app.0123abcd4567.js'), content);
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...H2C, '--chdir', dir, '--static', '/static/=public', fixture('apps/fetch.mjs')]);
    const client = await session(await bicorn.listening());
    try {
      const whole = await ask(client, '/static/app.0123abcd4567.js');
      expect(whole.status).toBe(200);
      expect(whole.body.equals(content)).toBe(true);
      expect(whole.headers['cache-control']).toContain('immutable');
      const etag = String(whole.headers.etag);
      const unchanged = await ask(client, '/static/app.0123abcd4567.js', { headers: { 'if-none-match': etag } });
      expect(unchanged.status).toBe(304);
      expect(unchanged.body.length).toBe(0);
      const part = await ask(client, '/static/app.0123abcd4567.js', { headers: { range: 'bytes=1000-1999' } });
      expect(part.status).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes 1000-1999/${String(content.length)}`);
      expect(part.body.equals(content.subarray(1000, 2000))).toBe(true);
    } finally {
      client.close();
    }
    expect((await bicorn.stop()).code).toBe(0);
  });
});

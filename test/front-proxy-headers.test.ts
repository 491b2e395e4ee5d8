// Forwarded headers from trusted proxies reach every interface as the client's address, the
// scheme, the Host, the server port and the root path (WSGI environ, ASGI scope, the fetch
// Request's URL); from a peer not trusted they pass through untouched; a Node listener keeps
// them for its own trust settings.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { askJson, frontApp, runnableApps, serveFront, type FrontApp } from './support/front.js';
import { hasPython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';
import { openWs, wsUrl } from './support/websocket.js';

type Seen = Record<string, unknown>;

function ask(url: string, path: string, headers: Record<string, string>, socketPath?: string): Promise<Seen> {
  return askJson(url, path, socketPath === undefined ? { headers } : { headers, socketPath });
}

const FORWARDED = {
  'X-Forwarded-For': '198.51.100.1, 203.0.113.7',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-Host': 'www.example.com',
  'X-Forwarded-Port': '8443',
  'X-Forwarded-Prefix': '/shop',
};

const ALL_FORWARDER_HEADERS = ['--forwarder-headers', 'X-Forwarded-Host,X-Forwarded-Port,X-Forwarded-Prefix,Forwarded'];

/** What each interface shows of where a request came from, in one shape. */
function origin(app: FrontApp, seen: Seen): Seen {
  if (app.name === 'fetch') return { scheme: seen.scheme, host: seen.host, path: seen.path };
  if (app.name === 'node') return { client: (seen.client as unknown[])[0], host: seen.host, x_forwarded_for: seen.x_forwarded_for };
  return { client: (seen.client as unknown[] | null)?.[0] ?? null, scheme: seen.scheme, host: seen.host, server: seen.server, root_path: seen.root_path };
}

describe.each(runnableApps.filter((app) => app.name !== 'node'))('a $name app behind a trusted proxy', (app) => {
  it('gets the client and scheme, and with forwarder_headers the Host, port and root path', async () => {
    const bicorn = serveFront(app, ALL_FORWARDER_HEADERS);
    const url = await bicorn.listening();
    const port = Number(new URL(url).port);
    const seen = origin(app, await ask(url, '/cart', FORWARDED));
    if (app.name === 'fetch') expect(seen).toEqual({ scheme: 'https', host: 'www.example.com:8443', path: '/cart' });
    else expect(seen).toEqual({ client: '203.0.113.7', scheme: 'https', host: 'www.example.com:8443', server: ['www.example.com', 8443], root_path: '/shop' });
    // RFC 7239 Forwarded: the rightmost hop our proxies did not add.
    const rfc = origin(app, await ask(url, '/cart', { Forwarded: 'for=198.51.100.1;proto=http, for="[2001:db8::7]:4711";proto=https;host=shop.example.com' }));
    if (app.name === 'fetch') expect(rfc).toMatchObject({ scheme: 'https', host: 'shop.example.com' });
    else expect(rfc).toMatchObject({ client: '2001:db8::7', scheme: 'https', host: 'shop.example.com', server: ['shop.example.com', 443] });
    // Nothing forwarded: the socket's own.
    const plain = origin(app, await ask(url, '/cart', {}));
    if (app.name === 'fetch') expect(plain).toEqual({ scheme: 'http', host: `127.0.0.1:${String(port)}`, path: '/cart' });
    else expect(plain).toEqual({ client: '127.0.0.1', scheme: 'http', host: `127.0.0.1:${String(port)}`, server: ['127.0.0.1', port], root_path: '' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("over TLS, has the https scheme when nothing is forwarded, and takes a trusted proxy's client and scheme", async () => {
    const bicorn = serveFront(app, [], 'TLS');
    const url = await bicorn.listening();
    const port = Number(new URL(url).port);
    const plain = origin(app, await ask(url, '/cart', {}));
    if (app.name === 'fetch') expect(plain).toEqual({ scheme: 'https', host: `127.0.0.1:${String(port)}`, path: '/cart' });
    else expect(plain).toEqual({ client: '127.0.0.1', scheme: 'https', host: `127.0.0.1:${String(port)}`, server: ['127.0.0.1', port], root_path: '' });
    // A trusted proxy's X-Forwarded-Proto wins over the connection's own scheme, as on TCP.
    const forwarded = origin(app, await ask(url, '/cart', { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'http' }));
    if (app.name === 'fetch') expect(forwarded).toMatchObject({ scheme: 'http' });
    else expect(forwarded).toMatchObject({ client: '203.0.113.7', scheme: 'http' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('takes only X-Forwarded-For and -Proto by default, and nothing from a peer not trusted (unix sockets are)', async () => {
    const socketPath = join(tempDir('bicorn-front-'), 'app.sock');
    const bicorn = serveFront(app, ['-b', '127.0.0.1:0', '-b', `unix:${socketPath}`, '--forwarded-allow-ips', '10.0.0.1']);
    const url = await bicorn.listening();
    const port = Number(new URL(url).port);
    const untrusted = origin(app, await ask(url, '/cart', FORWARDED));
    if (app.name === 'fetch') expect(untrusted).toEqual({ scheme: 'http', host: `127.0.0.1:${String(port)}`, path: '/cart' });
    else expect(untrusted).toEqual({ client: '127.0.0.1', scheme: 'http', host: `127.0.0.1:${String(port)}`, server: ['127.0.0.1', port], root_path: '' });
    const fromUnix = origin(app, await ask('http://localhost', '/cart', FORWARDED, socketPath));
    if (app.name === 'fetch') expect(fromUnix).toEqual({ scheme: 'https', host: 'localhost', path: '/cart' });
    else expect(fromUnix).toMatchObject({ client: '203.0.113.7', scheme: 'https', host: 'localhost', root_path: '' });
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('forwarded headers', () => {
  it('are left to a Node listener, which sees the proxy as its peer and the headers as sent', async () => {
    const app = frontApp('node');
    const bicorn = serveFront(app, ALL_FORWARDER_HEADERS);
    const url = await bicorn.listening();
    expect(origin(app, await ask(url, '/', FORWARDED))).toEqual({ client: '127.0.0.1', host: new URL(url).host, x_forwarded_for: '198.51.100.1, 203.0.113.7' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('are all ignored with --no-proxy-headers', async () => {
    const app = frontApp('js-asgi');
    const bicorn = serveFront(app, ['--no-proxy-headers', ...ALL_FORWARDER_HEADERS]);
    const url = await bicorn.listening();
    expect(origin(app, await ask(url, '/', FORWARDED))).toMatchObject({ client: '127.0.0.1', scheme: 'http', root_path: '' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.each(runnableApps.filter((app) => app.name === 'js-asgi' || (app.name === 'asgi' && hasPython)))('make a $name WebSocket wss when the proxy says https', async (app) => {
    const bicorn = serveFront(app);
    const url = await bicorn.listening();
    const { default: WebSocket } = await import('ws');
    const scope = await new Promise<Seen>((resolve, reject) => {
      const ws = new WebSocket(wsUrl(url, '/ws'), { headers: { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https' } });
      ws.once('message', (data: Buffer) => {
        resolve(JSON.parse(data.toString('utf8')) as Seen);
        ws.close();
      });
      ws.once('error', reject);
    });
    expect(scope).toMatchObject({ client: ['203.0.113.7', 0], scheme: 'wss' });
    const plain = await openWs(wsUrl(url, '/ws'));
    expect(JSON.parse((await plain.next()).data)).toMatchObject({ client: ['127.0.0.1', expect.any(Number)], scheme: 'ws' });
    plain.ws.close();
    expect((await bicorn.stop()).code).toBe(0);
  });
});

// bicorn behind the proxies people put in front of it, started for real: nginx with the usual
// X-Forwarded-* lines (over TCP and to a unix socket), and HAProxy with send-proxy and
// send-proxy-v2. The client connects from 127.0.0.3, so its address is none of the proxies'.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { askJson, frontApp, serveFront, type InterfaceName } from './support/front.js';
import { CLIENT_HOST, haproxyBinary, missingNote, nginxBinary, startHaproxy, startNginx } from './support/proxies.js';
import { hasPython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

type Seen = Record<string, unknown>;

/** GET through the proxy from CLIENT_HOST, with a Host and an X-Forwarded-For of the client's own. */
function askFromClient(url: string, path: string): Promise<Seen> {
  return askJson(url, path, { headers: { Host: 'shop.example.com', 'X-Forwarded-For': '6.6.6.6' }, localAddress: CLIENT_HOST });
}

// nginx as its docs and Django's deployment guides set it up, TLS ended in front of it.
const NGINX_LINES = [
  'proxy_set_header Host $host;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto https;',
  'proxy_set_header X-Forwarded-Prefix /shop;',
];

const python: InterfaceName = hasPython ? 'wsgi' : 'js-asgi';

describe.skipIf(nginxBinary === undefined)(`behind nginx${missingNote(nginxBinary, 'nginx')}`, () => {
  it(`gives a ${python} app the client nginx saw, not one a client claims, and https`, async () => {
    const bicorn = serveFront(frontApp(python), ['--forwarder-headers', 'x-forwarded-prefix']);
    const url = await bicorn.listening();
    const nginx = await startNginx({ upstream: url, directives: NGINX_LINES });
    const seen = await askFromClient(nginx.url, '/cart');
    expect(seen).toMatchObject({ client: [CLIENT_HOST, 0], scheme: 'https', host: 'shop.example.com', root_path: '/shop', path: '/cart', x_forwarded_for: `6.6.6.6, ${CLIENT_HOST}` });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('proxies to a unix socket, whose peer is trusted', async () => {
    const socketPath = join(tempDir('bicorn-nginx-app-'), 'app.sock');
    const bicorn = serveFront(frontApp('js-asgi'), ['-b', `unix:${socketPath}`, '--socket-mode', '666']);
    await bicorn.listening();
    const nginx = await startNginx({ upstream: `http://unix:${socketPath}:`, directives: NGINX_LINES });
    expect(await askFromClient(nginx.url, '/cart')).toMatchObject({ client: [CLIENT_HOST, 0], scheme: 'https', host: 'shop.example.com', path: '/cart' });
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe.skipIf(haproxyBinary === undefined)(`behind HAProxy${missingNote(haproxyBinary, 'haproxy')}`, () => {
  it.each(['send-proxy', 'send-proxy-v2'] as const)('gives a Node listener the client HAProxy saw as its peer (%s)', async (sendProxy) => {
    const bicorn = serveFront(frontApp('node'), ['--proxy-protocol', sendProxy === 'send-proxy' ? 'v1' : 'v2']);
    const url = await bicorn.listening();
    const haproxy = await startHaproxy(new URL(url).host, sendProxy);
    expect(await askFromClient(haproxy.url, '/')).toMatchObject({ client: [CLIENT_HOST, expect.any(Number)], host: 'shop.example.com', x_forwarded_for: '6.6.6.6' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)('gives a WSGI app the client HAProxy saw as REMOTE_ADDR', async () => {
    const bicorn = serveFront(frontApp('wsgi'), ['--proxy-protocol', 'v2']);
    const url = await bicorn.listening();
    const haproxy = await startHaproxy(new URL(url).host, 'send-proxy-v2');
    expect(await askFromClient(haproxy.url, '/')).toMatchObject({ client: [CLIENT_HOST, expect.any(Number)] });
    expect((await bicorn.stop()).code).toBe(0);
  });
});

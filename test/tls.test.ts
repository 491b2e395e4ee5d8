import { renameSync, writeFileSync } from 'node:fs';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { TLSSocket, connect, type ConnectionOptions } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, runBicorn } from './support/bicorn-process.js';
import { makeCa, makeCert, type Pem } from './support/certificates.js';
import { frontApp, runnableApps, serveFront } from './support/front.js';
import { get } from './support/http.js';
import { hasPython, noPython, pythonFixtures } from './support/python.js';
import { tempDir } from './support/temp-dir.js';
import { openWs, wsUrl } from './support/websocket.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  /** The SHA-256 fingerprint of the certificate the server showed. */
  readonly fingerprint: string;
}

function serverTls(dir: string): { ca: Pem; server: Pem } {
  const ca = makeCa(dir, 'ca');
  return { ca, server: makeCert(dir, 'server', ca, 'server') };
}

const tlsFlags = (server: Pem): string[] => ['--certfile', server.certFile, '--keyfile', server.keyFile];

/** The https:// form of the listening line's first address. */
async function httpsUrl(bicorn: BicornProcess): Promise<string> {
  return (await bicorn.listening()).replace(/^http:/, 'https:');
}

function ask(url: string, options: RequestOptions & { body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, ...options }, (res) => {
      const fingerprint = res.socket instanceof TLSSocket ? res.socket.getPeerCertificate().fingerprint256 : '';
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, fingerprint });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A GET on an HTTP/2 session, whose answer is JSON. */
function askH2(session: ClientHttp2Session, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => {
      resolve(JSON.parse(body) as Record<string, unknown>);
    });
    stream.on('error', reject);
  });
}

/** Whether a TLS handshake with these options succeeds and the server then answers a request. */
function handshakeAnswers(url: string, options: ConnectionOptions): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), ...options }, () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    let answered = false;
    socket.on('data', () => (answered = true));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      resolve(answered);
    });
  });
}

describe('HTTPS', () => {
  describe.each(runnableApps)('for the $name interface', (app) => {
    it('serves HTTPS on a TCP bind, and the app sees the https scheme', async () => {
      const { ca, server } = serverTls(tempDir('bicorn-tls-'));
      const bicorn = serveFront(app, tlsFlags(server));
      const url = await httpsUrl(bicorn);
      const answer = await ask(`${url}/where`, { ca: ca.cert });
      expect(answer.status).toBe(200);
      const seen = JSON.parse(answer.body) as Record<string, unknown>;
      // A Node listener reads the socket itself: what it reports is its own.
      if (app.name !== 'node') expect(seen.scheme).toBe('https');
      expect(seen.path).toBe('/where');
      expect((await bicorn.stop()).code).toBe(0);
    });
  });

  it('answers 504 on the TLS connection when a request times out', async () => {
    const { ca, server } = serverTls(tempDir('bicorn-tls-'));
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...tlsFlags(server), '--request-timeout', '0.5', fixture('apps/hang.mjs')]);
    const url = await httpsUrl(bicorn);
    const answer = await ask(`${url}/hang`, { ca: ca.cert });
    expect(answer).toMatchObject({ status: 504, body: 'Gateway Timeout\n' });
    expect((await ask(`${url}/`, { ca: ca.cert })).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('serves plain HTTP on a unix bind beside HTTPS on TCP', async () => {
    const dir = tempDir('bicorn-tls-');
    const { ca, server } = serverTls(dir);
    const socketPath = join(dir, 'app.sock');
    const bicorn = serveFront(frontApp('fetch'), ['-b', '127.0.0.1:0', '-b', `unix:${socketPath}`, ...tlsFlags(server)]);
    const url = await httpsUrl(bicorn);
    expect(JSON.parse((await ask(`${url}/`, { ca: ca.cert })).body)).toMatchObject({ scheme: 'https' });
    const plain = (await get('http://localhost/', false, socketPath)).body;
    expect(JSON.parse(plain)).toMatchObject({ scheme: 'http' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('resumes TLS sessions whichever worker answers: the master sets the ticket keys of all', async () => {
    const { ca, server } = serverTls(tempDir('bicorn-tls-'));
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', ...tlsFlags(server), fixture('apps/fetch.mjs')]);
    const { hostname, port } = new URL(await httpsUrl(bicorn));
    const session = await new Promise<Buffer>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port), ca: ca.cert }, () => {
        socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      socket.once('session', (ticket: Buffer) => resolve(ticket));
      socket.on('data', () => undefined);
    });
    const reused: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      reused.push(
        await new Promise<boolean>((resolve) => {
          const socket = connect({ host: hostname, port: Number(port), ca: ca.cert, session }, () => {
            resolve(socket.isSessionReused());
            socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          });
          socket.on('data', () => undefined);
        }),
      );
    }
    expect(reused).toEqual(Array(8).fill(true));
    // Both workers took some of the eight connections (node:cluster's round robin).
    expect(bicorn.workerPids()).toHaveLength(2);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('client certificates', () => {
  function mutualTls(dir: string) {
    const { ca, server } = serverTls(dir);
    const client = makeCert(dir, 'client', ca, 'client');
    const otherCa = makeCa(dir, 'other-ca');
    const stranger = makeCert(dir, 'stranger', otherCa, 'client');
    return { ca, server, client, stranger };
  }

  it('with cert_reqs 2, refuses a client without a certificate or with one of another CA, and serves one the CA signed', async () => {
    const { ca, server, client, stranger } = mutualTls(tempDir('bicorn-mtls-'));
    const bicorn = serveFront(frontApp('fetch'), [...tlsFlags(server), '--cert-reqs', '2', '--ca-certs', ca.certFile]);
    const url = await httpsUrl(bicorn);
    expect(await handshakeAnswers(url, { ca: ca.cert })).toBe(false);
    expect(await handshakeAnswers(url, { ca: ca.cert, cert: stranger.cert, key: stranger.key })).toBe(false);
    expect(await handshakeAnswers(url, { ca: ca.cert, cert: client.cert, key: client.key })).toBe(true);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("gives an ASGI app the client's certificate in the tls extension", async () => {
    const { ca, server, client } = mutualTls(tempDir('bicorn-mtls-'));
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...tlsFlags(server), '--cert-reqs', '2', '--ca-certs', ca.certFile, '--interface', 'asgi', fixture('apps/asgi-tls.mjs')]);
    const url = await httpsUrl(bicorn);
    const seen = JSON.parse((await ask(`${url}/`, { ca: ca.cert, cert: client.cert, key: client.key })).body) as { scheme: string; tls: Record<string, unknown> };
    expect(seen.scheme).toBe('https');
    expect(seen.tls).toMatchObject({ server_cert: server.cert, client_cert_name: 'O=bicorn tests,CN=client', client_cert_error: null, tls_version: 0x0304, cipher_suite: 0x1302 });
    // The chain as verified: the client's certificate, then the CA that signed it.
    expect(seen.tls.client_cert_chain).toEqual([client.cert, ca.cert]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('gives an ASGI app the tls extension on HTTP/2 too, computed once for all the streams of a connection', async () => {
    const { ca, server, client } = mutualTls(tempDir('bicorn-mtls-'));
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...tlsFlags(server), '--cert-reqs', '2', '--ca-certs', ca.certFile, '--http-protocols', 'h2,h1', '--interface', 'asgi', fixture('apps/asgi-tls.mjs')]);
    const session = h2connect(await httpsUrl(bicorn), { ca: ca.cert, cert: client.cert, key: client.key });
    try {
      const first = await askH2(session, '/one');
      const second = await askH2(session, '/two');
      expect(first).toMatchObject({ scheme: 'https', tls: { client_cert_name: 'O=bicorn tests,CN=client', tls_version: 0x0304 }, again: false });
      expect(second).toEqual({ ...first, again: true });
    } finally {
      session.close();
    }
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)(`tells a WSGI app the client's certificate in SSL_CLIENT_CERT, and a Python ASGI app in the tls extension, on HTTP and WebSocket${noPython}`, async () => {
    const { ca, server, client } = mutualTls(tempDir('bicorn-mtls-'));
    const mtls = [...tlsFlags(server), '--cert-reqs', '1', '--ca-certs', ca.certFile, '--chdir', pythonFixtures];
    const wsgi = new BicornProcess(['-b', '127.0.0.1:0', ...mtls, 'tls_apps:wsgi']);
    const wsgiUrl = await httpsUrl(wsgi);
    expect(JSON.parse((await ask(`${wsgiUrl}/`, { ca: ca.cert, cert: client.cert, key: client.key })).body)).toEqual({
      'wsgi.url_scheme': 'https',
      HTTPS: 'on',
      SSL_CLIENT_CERT: client.cert,
      SSL_CLIENT_S_DN: 'O=bicorn tests,CN=client',
      SSL_CLIENT_VERIFY: 'SUCCESS',
    });
    expect(JSON.parse((await ask(`${wsgiUrl}/`, { ca: ca.cert })).body)).toMatchObject({ SSL_CLIENT_CERT: null, SSL_CLIENT_VERIFY: 'NONE' });
    expect((await wsgi.stop()).code).toBe(0);
    const asgi = new BicornProcess(['-b', '127.0.0.1:0', ...mtls, 'tls_apps:asgi']);
    const asgiUrl = await httpsUrl(asgi);
    const tls = { server_cert: server.cert, client_cert_chain: [client.cert, ca.cert], client_cert_name: 'O=bicorn tests,CN=client', client_cert_error: null, tls_version: 0x0304, cipher_suite: 0x1302 };
    expect(JSON.parse((await ask(`${asgiUrl}/`, { ca: ca.cert, cert: client.cert, key: client.key })).body)).toEqual({ scheme: 'https', tls });
    // A WebSocket over TLS is told the same.
    const ws = await openWs(wsUrl(asgiUrl, '/'), [], { ca: ca.cert, cert: client.cert, key: client.key });
    expect(JSON.parse((await ws.next()).data)).toEqual({ scheme: 'wss', tls });
    await ws.closed;
    expect((await asgi.stop()).code).toBe(0);
  });

  it('with cert_reqs 1, serves a client without a certificate, and refuses one whose certificate does not verify', async () => {
    const { ca, server, client, stranger } = mutualTls(tempDir('bicorn-mtls-'));
    const bicorn = serveFront(frontApp('fetch'), [...tlsFlags(server), '--ssl-cert-reqs', '1', '--ssl-ca-certs', ca.certFile]);
    const url = await httpsUrl(bicorn);
    expect(await handshakeAnswers(url, { ca: ca.cert })).toBe(true);
    expect(await handshakeAnswers(url, { ca: ca.cert, cert: client.cert, key: client.key })).toBe(true);
    expect(await handshakeAnswers(url, { ca: ca.cert, cert: stranger.cert, key: stranger.key })).toBe(false);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('certificates at start and at reload', () => {
  it('stops with exit 2 naming the file when the certificate cannot be used at start', async () => {
    const dir = tempDir('bicorn-tls-');
    const { server } = serverTls(dir);
    const other = makeCert(dir, 'other', makeCa(dir, 'ca2'), 'server');
    const missing = await runBicorn(['-b', '127.0.0.1:0', '--certfile', join(dir, 'nope.pem'), '--keyfile', server.keyFile, fixture('apps/fetch.mjs')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`certfile ${join(dir, 'nope.pem')}: no such file`);
    const mismatched = await runBicorn(['-b', '127.0.0.1:0', '--certfile', server.certFile, '--keyfile', other.keyFile, fixture('apps/fetch.mjs')]);
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain(`keyfile ${other.keyFile}: is not the private key of certfile ${server.certFile}`);
    writeFileSync(join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    const broken = await runBicorn(['-b', '127.0.0.1:0', '--certfile', join(dir, 'broken.pem'), '--keyfile', server.keyFile, fixture('apps/fetch.mjs')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`certfile ${join(dir, 'broken.pem')}: not a PEM certificate`);
  });

  it('serves a renewed certificate after SIGHUP, while an upload under way on the old one completes', async () => {
    const dir = tempDir('bicorn-tls-');
    const { ca, server } = serverTls(dir);
    const renewed = makeCert(dir, 'renewed', ca, 'server');
    const bicorn = serveFront(frontApp('fetch'), [...tlsFlags(server), '--graceful-timeout', '20']);
    const url = await httpsUrl(bicorn);
    const before = await ask(`${url}/`, { ca: ca.cert });
    // An upload begun before the reload, finished after it.
    let uploadSocketFingerprint = '';
    const upload = new Promise<Answer>((resolve, reject) => {
      const req = request(`${url}/upload`, { method: 'POST', agent: false, ca: ca.cert, headers: { 'content-length': '10' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint: uploadSocketFingerprint }));
      });
      req.on('socket', (socket) => socket.once('secureConnect', () => (uploadSocketFingerprint = socket instanceof TLSSocket ? socket.getPeerCertificate().fingerprint256 : '')));
      req.on('error', reject);
      req.write('hello');
      bicorn.signal('SIGHUP');
      void bicorn.waitForLog('the reload', (l) => l.msg === 'reloaded').then(() => req.end('world'), reject);
    });
    // certbot's way: the files are replaced (renamed over), then the server reloaded.
    renameSync(renewed.certFile, server.certFile);
    renameSync(renewed.keyFile, server.keyFile);
    const uploaded = await upload;
    expect(uploaded.status).toBe(200);
    expect(JSON.parse(uploaded.body)).toMatchObject({ body_length: 10 });
    expect(uploaded.fingerprint).toBe(before.fingerprint);
    const after = await ask(`${url}/`, { ca: ca.cert });
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('keeps serving the certificate in use, and says why, when the files cannot be used at a reload', async () => {
    const dir = tempDir('bicorn-tls-');
    const { ca, server } = serverTls(dir);
    const bicorn = serveFront(frontApp('fetch'), tlsFlags(server));
    const url = await httpsUrl(bicorn);
    const before = await ask(`${url}/`, { ca: ca.cert });
    writeFileSync(server.certFile, 'renewal went wrong\n');
    bicorn.signal('SIGHUP');
    const failed = await bicorn.waitForLog('the TLS error', (l) => l.msg.startsWith('reload: the TLS files cannot be used'));
    expect(failed.reason).toContain(`certfile ${server.certFile}: not a PEM certificate`);
    await bicorn.waitForLog('the reload', (l) => l.msg === 'reloaded');
    const after = await ask(`${url}/`, { ca: ca.cert });
    expect(after.status).toBe(200);
    expect(after.fingerprint).toBe(before.fingerprint);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

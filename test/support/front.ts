// For the end-to-end tests of the worker's front: the echo app of each interface
// (test/fixtures/front) and a raw HTTP exchange, byte for byte, on a fresh connection.
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { BicornProcess, fixture } from './bicorn-process.js';
import { makeCa, makeCert } from './certificates.js';
import { hasPython } from './python.js';
import { tempDir } from './temp-dir.js';

export type InterfaceName = 'wsgi' | 'asgi' | 'js-asgi' | 'fetch' | 'node';

export interface FrontApp {
  readonly name: InterfaceName;
  /** Served by a Python process. */
  readonly python: boolean;
  readonly app: string;
}

const front = fixture('front');

export const frontApps: readonly FrontApp[] = [
  { name: 'wsgi', python: true, app: 'echo_wsgi:app' },
  { name: 'asgi', python: true, app: 'echo_asgi:app' },
  { name: 'js-asgi', python: false, app: `${front}/echo-asgi.mjs` },
  { name: 'fetch', python: false, app: `${front}/echo-fetch.mjs` },
  { name: 'node', python: false, app: `${front}/echo-node.mjs` },
];

/** The interfaces this machine can run (Python ones need python3). */
export const runnableApps = frontApps.filter((app) => !app.python || hasPython);

export function frontApp(name: InterfaceName): FrontApp {
  const found = frontApps.find((app) => app.name === name);
  if (found === undefined) throw new Error(`no front app ${name}`);
  return found;
}

/** How the client reaches the front: the front's rules hold the same on both. */
export type Transport = 'TCP' | 'TLS';
export const transports: readonly Transport[] = ['TCP', 'TLS'];

/**
 * Serves an interface's echo app on 127.0.0.1:0 (unless `extra` binds), one worker; over TLS
 * with a certificate made for the test (listening() then gives https:// URLs).
 */
export function serveFront(app: FrontApp, extra: readonly string[] = [], transport: Transport = 'TCP'): BicornProcess {
  const bind = extra.includes('-b') ? [] : ['-b', '127.0.0.1:0'];
  const interfaceFlag = app.name === 'js-asgi' ? ['--interface', 'asgi'] : app.python ? [] : ['--interface', app.name];
  const tls = transport === 'TLS' ? testCertificateFlags() : [];
  return new BicornProcess([...bind, '--chdir', front, ...interfaceFlag, ...tls, ...extra, app.app], { https: transport === 'TLS' });
}

function testCertificateFlags(): string[] {
  const dir = tempDir('bicorn-front-tls-');
  const server = makeCert(dir, 'server', makeCa(dir, 'ca'), 'server');
  return ['--certfile', server.certFile, '--keyfile', server.keyFile];
}

/**
 * A connection to the URL's address: TLS for https:// (the test's certificate is not checked),
 * after a PROXY protocol header in the clear when one is given, as a proxy sends it.
 */
function connectTo(url: string, options: RawOptions): Socket {
  const { protocol, hostname, port } = new URL(url);
  const local = options.localAddress === undefined ? {} : { localAddress: options.localAddress };
  const plain = options.socketPath !== undefined ? connect({ path: options.socketPath }) : connect({ host: hostname, port: Number(port), ...local });
  if (options.proxyHeader !== undefined) plain.write(options.proxyHeader);
  return protocol === 'https:' ? tlsConnect({ socket: plain, rejectUnauthorized: false }) : plain;
}

export interface RawAnswer {
  /** The status of the first response, 0 when none came. */
  readonly status: number;
  readonly head: string;
  /** Everything after the first response's head. */
  readonly body: string;
  /** Every byte received, as latin-1. */
  readonly raw: string;
  /** The server closed the connection before `timeoutMs`. */
  readonly closed: boolean;
  /** The connection was reset instead of closed. */
  readonly reset: boolean;
}

export interface RawOptions {
  /** Half-close (FIN) after sending. */
  readonly halfClose?: boolean;
  /** How long to wait for the server to close; then the answer is what came. */
  readonly timeoutMs?: number;
  /** Connect from this loopback address (127.0.0.2 and up are all this machine). */
  readonly localAddress?: string;
  /** A unix socket instead of the URL's address. */
  readonly socketPath?: string;
  /** A PROXY protocol header, sent first (before the TLS handshake on https://). */
  readonly proxyHeader?: string | Buffer;
}

/** Sends `request` on a new connection and reads until the server closes it (or the timeout). */
export function rawExchange(url: string, request: string | Buffer, options: RawOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connectTo(url, options);
    const chunks: Buffer[] = [];
    let reset = false;
    let closed = false;
    socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => {
      socket.write(request);
      if (options.halfClose === true) socket.end();
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
    });
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5_000);
    socket.on('end', () => {
      closed = true;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({
        status: status === null ? 0 : Number(status[1]),
        head: end === -1 ? raw : raw.slice(0, end),
        body: end === -1 ? '' : raw.slice(end + 4),
        raw,
        closed: closed || reset,
        reset,
      });
    });
  });
}

/** A request as lines joined by CRLF, with the empty line that ends its head. */
export function requestOf(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface AskOptions {
  readonly headers?: Record<string, string>;
  readonly socketPath?: string;
  readonly localAddress?: string;
}

/** GETs `path` on a fresh connection and parses the echo app's JSON answer. */
export function askJson(url: string, path: string, options: AskOptions = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const { headers = {}, socketPath, localAddress } = options;
    const send = url.startsWith('https:') ? httpsRequest : request;
    const req = send(`${url}${path}`, { headers, agent: false, rejectUnauthorized: false, ...(socketPath === undefined ? {} : { socketPath }), ...(localAddress === undefined ? {} : { localAddress }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch {
          reject(new Error(`status ${String(res.statusCode)}: ${body}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

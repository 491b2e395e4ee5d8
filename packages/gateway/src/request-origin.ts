// Where a request came from, as the worker's front found it: from the socket, or from what a
// trusted proxy forwarded (client, scheme, host, root path). The front sets it on each request
// before any host sees the request; every host reads it for the ASGI scope, the WSGI environ
// and the fetch URL. Runs in the worker.
import type { IncomingMessage } from 'node:http';

export interface RequestOrigin {
  readonly client: readonly [string, number] | null;
  readonly server: readonly [string, number | null] | null;
  readonly scheme: 'http' | 'https';
  /** The headers as the app sees them: the request's own, with Host set to the one the client asked for when a proxy forwarded it. */
  readonly rawHeaders: readonly string[];
  /** The Host the client asked for, `host[:port]`; undefined when it sent none (HTTP/1.0). */
  readonly host: string | undefined;
  readonly rootPath: string;
}

const origins = new WeakMap<IncomingMessage, RequestOrigin>();

export function setRequestOrigin(req: IncomingMessage, origin: RequestOrigin): void {
  origins.set(req, origin);
}

/** The origin the front set; for a request served without the front (tests), the socket's with `rootPath`. */
export function requestOrigin(req: IncomingMessage, rootPath: string): RequestOrigin {
  return origins.get(req) ?? socketOrigin(req, rootPath);
}

function socketOrigin(req: IncomingMessage, rootPath: string): RequestOrigin {
  const socket = req.socket;
  return {
    client: socket.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort ?? 0],
    server: socket.localAddress === undefined ? null : [socket.localAddress, socket.localPort ?? null],
    scheme: 'encrypted' in socket && socket.encrypted === true ? 'https' : 'http',
    rawHeaders: req.rawHeaders,
    host: req.headers.host,
    rootPath,
  };
}

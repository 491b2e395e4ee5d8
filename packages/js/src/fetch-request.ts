// Turns a node:http request into a WHATWG Request for a fetch handler: absolute URL, headers,
// the body streamed (never buffered) and a signal that fires if the client goes away. Runs in
// the worker, per request.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export function toFetchRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const method = req.method ?? 'GET';
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] ?? '', raw[i + 1] ?? '');
  const url = requestUrl(req);
  if (method === 'GET' || method === 'HEAD' || !hasBody(req)) return new Request(url, { method, headers, signal });
  const body = Readable.toWeb(req);
  return new Request(url, { method, headers, signal, body, duplex: 'half' });
}

/** A request without Content-Length or Transfer-Encoding has no body (RFC 9112, 6.3). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Throws a TypeError when the Host header does not make a valid URL. */
function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  // The absolute form (`GET http://host/path`) is already a URL.
  if (!target.startsWith('/')) return new URL(target);
  const host = req.headers.host ?? serverAuthority(req);
  return new URL(`http://${host}${target}`);
}

function serverAuthority(req: IncomingMessage): string {
  const { localAddress, localPort } = req.socket;
  if (localAddress === undefined) return 'localhost';
  const host = localAddress.includes(':') ? `[${localAddress}]` : localAddress;
  return localPort === undefined ? host : `${host}:${String(localPort)}`;
}

// Turns a node:http request into a WHATWG Request for a fetch handler: absolute URL (with the
// scheme and Host a trusted proxy forwarded, as the worker's front found them), headers, the
// body streamed (never buffered) and a signal that fires if the client goes away. Runs in the
// worker, per request.
import { requestOrigin, splitTarget, type RequestOrigin } from '@bicorn/gateway';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export function toFetchRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const method = req.method ?? 'GET';
  const headers = new Headers();
  const origin = requestOrigin(req, '');
  const raw = origin.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] ?? '', raw[i + 1] ?? '');
  const url = requestUrl(req, origin);
  if (method === 'GET' || method === 'HEAD' || !hasBody(req)) return new Request(url, { method, headers, signal });
  const body = Readable.toWeb(req);
  return new Request(url, { method, headers, signal, body, duplex: 'half' });
}

/** A request without Content-Length or Transfer-Encoding has no body (RFC 9112, 6.3). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The origin's scheme and Host with the target's path and query (the absolute form's
 * authority is the request's Host, RFC 9112 3.2.2). Throws a TypeError when they make no URL.
 */
function requestUrl(req: IncomingMessage, origin: RequestOrigin): URL {
  let target = req.url ?? '/';
  if (!target.startsWith('/')) {
    const { path, query } = splitTarget(target);
    target = query === '' ? path : `${path}?${query}`;
  }
  return new URL(`${origin.scheme}://${origin.host ?? serverAuthority(origin)}${target}`);
}

function serverAuthority(origin: RequestOrigin): string {
  if (origin.server === null) return 'localhost';
  const [address, port] = origin.server;
  const host = address.includes(':') ? `[${address}]` : address;
  return port === null ? host : `${host}:${String(port)}`;
}

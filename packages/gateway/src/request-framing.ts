// Whether a body follows a request's head, for the hosts that plan for one (the Python relay,
// the fetch Request): HTTP/1.1 says so with Content-Length or Transfer-Encoding (RFC 9112 6.3);
// HTTP/2 with a stream its HEADERS frame did not end (RFC 9113 8.1), with or without
// Content-Length. Runs in the worker, per request.
import type { IncomingMessage } from 'node:http';

export function bodyFollows(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length === '0') return false;
  if (req.httpVersionMajor === 2) return !endedWithHeaders(req);
  return req.headers['transfer-encoding'] !== undefined || length !== undefined;
}

/** node:http2's request carries its stream, which knows whether the HEADERS frame ended it. */
function endedWithHeaders(req: IncomingMessage): boolean {
  const stream: unknown = Reflect.get(req, 'stream');
  return typeof stream === 'object' && stream !== null && Reflect.get(stream, 'endAfterHeaders') === true;
}

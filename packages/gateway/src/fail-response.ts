// What a client gets when the app fails: a 500 while nothing is on the wire, else the
// connection (on HTTP/2, the stream) cut so that the response is not taken as whole. Runs in
// the worker; used by every app host.
import type { ServerResponse } from 'node:http';

const ERROR_BODY = Buffer.from('Internal Server Error\n');
const ERROR_HEADERS = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(ERROR_BODY.length)];

export function failResponse(res: ServerResponse): void {
  // A finished response is whole on the wire, and its socket may already carry the next
  // request of a keep-alive connection: leave both alone.
  if (res.writableEnded || res.destroyed) return;
  if (!res.headersSent) {
    res.writeHead(500, ERROR_HEADERS);
    res.end(ERROR_BODY);
    return;
  }
  // node:http corks the socket until the next tick; flush first so that the client sees a
  // response cut short rather than none at all. A chunked or sized response cut by a close is
  // visibly short; a close-delimited one (HTTP/1.0 without Content-Length) would look whole,
  // so that one is reset instead. Measured: a client sees the reset when bytes were still
  // unsent, but once all were sent most clients see a plain close, so for HTTP/1.0 this is
  // best effort (as in gunicorn and uvicorn, which only close).
  // On HTTP/2, res.destroy() resets the stream alone, which no client takes as a whole response.
  res.socket?.uncork();
  const closeDelimited = res.req.httpVersionMajor === 1 && res.req.httpVersionMinor === 0 && !res.hasHeader('content-length');
  if (closeDelimited) res.socket?.resetAndDestroy();
  res.destroy();
}

/**
 * Cuts a response short so that the client sees it cut: a reset connection on HTTP/1.x, a reset
 * stream on HTTP/2 (whose request's socket is the whole connection's).
 */
export function cutResponse(res: ServerResponse): void {
  if (res.req.httpVersionMajor === 1) res.socket?.resetAndDestroy();
  else res.destroy();
}

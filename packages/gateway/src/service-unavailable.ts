// The 503 for a request the worker will not serve now: its app has not started it within the
// queue timeout, the worker is at its concurrency limit, its spool budget is spent. Retry-After
// says when to try again, and Connection: close that the retry comes on a new connection, which
// the master may give to a worker that can serve it. One rule for every such refusal. Used in
// the worker.
import type { ServerResponse } from 'node:http';

/** Seconds a client should wait before it retries. */
export const RETRY_AFTER_S = 1;
const BODY = Buffer.from('Service Unavailable\n');
const HEADERS = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(BODY.length), 'retry-after', String(RETRY_AFTER_S), 'connection', 'close'];

/** Answers 503; a response already begun, or gone, is left alone. */
export function serviceUnavailable(res: ServerResponse): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  res.shouldKeepAlive = false;
  res.writeHead(503, HEADERS);
  res.end(BODY);
}

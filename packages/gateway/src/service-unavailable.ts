// The 503 for a request the worker will not serve now: its app has not started it within the
// queue timeout, the worker is at its concurrency limit, its spool budget is spent. Retry-After
// says when to try again, and Connection: close that the retry comes on a new connection, which
// the master may give to a worker that can serve it. One rule for every such refusal: the
// front's refusals (limit_concurrency, a drain) carry the same RETRY_AFTER. Used in the worker.
import type { ServerResponse } from 'node:http';

/** The header that says how long a client should wait before it retries (1 s). */
export const RETRY_AFTER: readonly [string, string] = ['retry-after', '1'];
const BODY = Buffer.from('Service Unavailable\n');
const HEADERS = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(BODY.length), ...RETRY_AFTER, 'connection', 'close'];

/** Answers 503; a response already begun, or gone, is left alone. */
export function serviceUnavailable(res: ServerResponse): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  res.shouldKeepAlive = false;
  res.writeHead(503, HEADERS);
  res.end(BODY);
}

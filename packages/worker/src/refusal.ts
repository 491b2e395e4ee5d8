// The worker's own answers to requests it will not pass to the app (a broken rule, a limit,
// a timeout, no capacity): a short text body and `Connection: close`, through node:http when
// the request has a response object, else written on the socket. Runs in the worker.
import { RETRY_AFTER, writePlainResponse } from '@bicorn/gateway';
import type { LimitKind } from '@bicorn/protocol';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeaderField, Refusal } from './request-rules.js';

/**
 * The 503 of a worker with no room for the request (limit_concurrency, a drain): the same
 * answer as gateway's serviceUnavailable, which the app hosts give (queue_timeout, spool_budget).
 */
export function unavailable(reason: string, limit?: LimitKind): Refusal {
  return { status: 503, reason, headers: [RETRY_AFTER], ...(limit === undefined ? {} : { limit }) };
}

/** The limit a refusal enforces, for the metrics; undefined for a broken rule or a drain. */
export function limitOf(refusal: Refusal): LimitKind | undefined {
  switch (refusal.status) {
    case 408:
      return 'header-timeout';
    case 413:
      return 'request-body';
    case 414:
      return 'request-line';
    case 431:
      return 'request-headers';
    default:
      return refusal.limit;
  }
}

/**
 * Answers through the request's response, after any response before it on the connection;
 * node then closes the connection (with a lingering close, see lingering-close.ts).
 */
export function answerRefusal(res: ServerResponse, refusal: Refusal): void {
  const body = `${STATUS_CODES[refusal.status] ?? 'Error'}\n`;
  const head = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'connection', 'close'];
  for (const [name, value] of refusal.headers ?? []) head.push(name, value);
  res.writeHead(refusal.status, head);
  res.end(body);
}

/**
 * Answers on the socket itself, when there is no response object or it may not be used, and
 * ends the socket. `defaults`: the headers the server adds to every response.
 */
export function writeRefusal(socket: Duplex, refusal: Refusal, defaults: readonly HeaderField[]): void {
  let lines = '';
  for (const [name, value] of [...defaults, ...(refusal.headers ?? [])]) lines += `${name}: ${value}\r\n`;
  writePlainResponse(socket, refusal.status, lines);
}

// The access line's facts about one exchange, from the request, where the front found it came
// from, and what was written. Runs in the worker, once per request when the access log is on.
import type { RequestOrigin } from '@bicorn/gateway';
import type { AccessEntry } from '@bicorn/runtime';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Exchange {
  readonly status: number;
  /** Bytes written to the socket for the response, head included. */
  readonly bytes: number;
  readonly durationMs: number;
  readonly res?: ServerResponse | undefined;
  /** Answered from a static directory (--static) rather than by the app. */
  readonly static?: boolean;
}

/** `req` undefined: a connection refused before any request parsed. */
export function accessEntry(req: IncomingMessage | undefined, origin: RequestOrigin, exchange: Exchange): AccessEntry {
  return {
    client: origin.client?.[0] ?? '-',
    clientPort: origin.client?.[1] ?? 0,
    method: req?.method ?? '-',
    target: req?.url ?? '-',
    httpVersion: req?.httpVersion ?? '-',
    status: exchange.status,
    bytes: exchange.bytes,
    durationMs: exchange.durationMs,
    requestHeaders: req?.rawHeaders ?? [],
    responseHead: exchange.res === undefined ? undefined : sentHead(exchange.res),
    scheme: origin.scheme,
    server: origin.server,
    rootPath: origin.rootPath,
    ...(exchange.static === true ? { static: true } : {}),
  };
}

/**
 * The response head node wrote, as text: headers an app gives writeHead as a list are kept
 * nowhere else (getHeaders() only knows those set one by one).
 */
function sentHead(res: ServerResponse): string | undefined {
  const head: unknown = Reflect.get(res, '_header');
  return typeof head === 'string' ? head : undefined;
}

/** The origin of a connection before any request: its socket's addresses. */
export function socketOrigin(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined; localAddress?: string | undefined; localPort?: number | undefined }, rootPath: string): RequestOrigin {
  return {
    client: socket.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort ?? 0],
    server: socket.localAddress === undefined ? null : [socket.localAddress, socket.localPort ?? null],
    scheme: 'http',
    rawHeaders: [],
    host: undefined,
    rootPath,
  };
}

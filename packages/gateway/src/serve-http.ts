// Serves one node:http request with an ASGI app: builds the scope, runs the app with
// receive/send, and settles the response however the app ends. Runs in the worker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsgiReceive, AsgiSend, HttpScope } from './asgi-types.js';
import { HttpExchange, type ExchangeExtensions } from './http-exchange.js';
import { buildHttpScope } from './http-scope.js';
import type { GatewayLog } from './log.js';
import { requestOrigin } from './request-origin.js';
import { tlsExtensionOf } from './tls-extension.js';

export interface ServeAsgiHttpOptions {
  /** The root path of a request the worker's front did not see (its own comes with the request's origin). */
  readonly rootPath: string;
  readonly log: GatewayLog;
  /** The lifespan state; each request's scope gets a shallow copy. */
  readonly state?: Record<string, unknown> | undefined;
}

/** What the server can run: an `AsgiApp`, or any function, whose result is awaited whatever it is. */
export type AsgiCallable = (scope: HttpScope, receive: AsgiReceive, send: AsgiSend) => unknown;

const EMPTY = Object.freeze({});
const PATHSEND = Object.freeze({ 'http.response.pathsend': EMPTY });
const HTTP_11 = Object.freeze({ 'http.response.pathsend': EMPTY, 'http.response.early_hint': EMPTY });
const HTTP_11_TRAILERS = Object.freeze({ ...HTTP_11, 'http.response.trailers': EMPTY });

/** Never rejects: app failures become a 500 or an aborted connection, and a log line. */
export async function serveAsgiHttp(
  app: AsgiCallable,
  req: IncomingMessage,
  res: ServerResponse,
  options: ServeAsgiHttpOptions,
): Promise<void> {
  const origin = requestOrigin(req, options.rootPath);
  const allowed = extensionsFor(req);
  const scope = buildHttpScope({
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    httpVersion: req.httpVersion,
    rawHeaders: origin.rawHeaders,
    scheme: origin.scheme,
    client: origin.client,
    server: origin.server,
    rootPath: origin.rootPath,
    extensions: withTls(allowed.trailers ? HTTP_11_TRAILERS : allowed.earlyHints ? HTTP_11 : PATHSEND, req),
    state: options.state,
  });
  const exchange = new HttpExchange(req, res, options.log, scope, allowed);
  try {
    await app(scope, exchange.receive, exchange.send);
  } catch (error) {
    exchange.appFailed(error);
    return;
  }
  exchange.appReturned();
}

/** The scope's extensions, with ASGI's `tls` on a TLS connection. */
function withTls<E extends Readonly<Record<string, unknown>>>(extensions: E, req: IncomingMessage): E {
  const tls = tlsExtensionOf(req);
  return tls === undefined ? extensions : { ...extensions, ...tls };
}

const HTTP_10_ALLOWS: ExchangeExtensions = { trailers: false, earlyHints: false };
const HTTP_11_ALLOWS: ExchangeExtensions = { trailers: false, earlyHints: true };
const HTTP_11_TRAILERS_ALLOWS: ExchangeExtensions = { trailers: true, earlyHints: true };

/** HTTP/1.0 has neither chunked bodies (so no trailers) nor 1xx responses. */
function extensionsFor(req: IncomingMessage): ExchangeExtensions {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) return HTTP_10_ALLOWS;
  return acceptsTrailers(req.headers.te) ? HTTP_11_TRAILERS_ALLOWS : HTTP_11_ALLOWS;
}

function acceptsTrailers(te: string | string[] | undefined): boolean {
  if (te === undefined) return false;
  return (Array.isArray(te) ? te.join(',') : te).split(',').some((part) => part.split(';')[0]?.trim().toLowerCase() === 'trailers');
}

// The host for fetch handlers (a function of a Request, or an object with a fetch method such
// as a Hono app): node:http in, Response out, failures to 500 or an aborted connection. A
// handler that answers at once is served without a promise of ours; the Request and Response
// are the light ones of fetch-request.ts and light-response.ts. Runs in the worker, per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failResponse, type GatewayLog } from '@bicorn/gateway';
import { bodyStarted, toFetchRequest } from './fetch-request.js';
import { writeFetchResponse } from './fetch-response.js';
import { describeExport, type Callable } from './interface.js';
import { installLightResponse, NativeResponse } from './light-response.js';

export interface FetchTarget {
  readonly handler: Callable;
  /** `this` for the call, so that method-style `fetch` keeps its object. */
  readonly self: unknown;
}

const BAD_REQUEST_BODY = Buffer.from('Bad Request\n');
const BAD_REQUEST_HEADERS = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(BAD_REQUEST_BODY.length)];

export function createFetchListener(target: FetchTarget, log: GatewayLog): (req: IncomingMessage, res: ServerResponse) => void {
  installLightResponse();
  return (req, res) => {
    serveFetch(target, req, res, log);
  };
}

function serveFetch(target: FetchTarget, req: IncomingMessage, res: ServerResponse, log: GatewayLog): void {
  let request: Request;
  try {
    request = toFetchRequest(req, res);
  } catch (error) {
    log.debug({ err: error, host: req.headers.host, url: req.url }, 'cannot build a URL for the fetch handler');
    res.writeHead(400, BAD_REQUEST_HEADERS);
    res.end(BAD_REQUEST_BODY);
    return;
  }
  const exchange: Exchange = { req, res, request, log };
  let result: unknown;
  try {
    result = target.handler.call(target.self, request);
  } catch (error) {
    failed(exchange, error);
    return;
  }
  if (isThenable(result)) {
    result.then(
      (response) => {
        respond(exchange, response);
      },
      (error: unknown) => {
        failed(exchange, error);
      },
    );
  } else {
    respond(exchange, result);
  }
}

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly request: Request;
  readonly log: GatewayLog;
}

function respond(exchange: Exchange, response: unknown): void {
  let writing: Promise<void> | undefined;
  try {
    if (!(response instanceof NativeResponse)) {
      throw new TypeError(`the fetch handler returned ${describeExport(response)}, not a Response`);
    }
    writing = writeFetchResponse(response, exchange.res, exchange.req.method === 'HEAD', exchange.log);
  } catch (error) {
    failed(exchange, error);
    return;
  }
  if (writing === undefined) settled(exchange);
  else {
    writing.then(
      () => {
        settled(exchange);
      },
      (error: unknown) => {
        failed(exchange, error);
      },
    );
  }
}

/** The handler or its Response failed: a 500 while nothing was sent, else a cut connection. */
function failed(exchange: Exchange, error: unknown): void {
  const { req, res, log } = exchange;
  const context = { err: error, method: req.method, url: req.url };
  if (res.destroyed && !res.writableFinished) log.debug(context, 'fetch handler stopped: the client disconnected');
  else {
    log.error(context, 'exception in fetch handler');
    failResponse(res);
  }
  settled(exchange);
}

/** The end of an exchange: drops the request body nobody will read. */
function settled(exchange: Exchange): void {
  const { req, request } = exchange;
  // A body stream keeps a 'data' listener on the paused request, so a body the handler left
  // unread would stall the keep-alive connection: drop it, as node:http does for a request
  // nobody touched.
  if (!req.readableEnded && bodyStarted(request)) {
    req.removeAllListeners('data');
    req.resume();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && 'then' in value && typeof value.then === 'function';
}

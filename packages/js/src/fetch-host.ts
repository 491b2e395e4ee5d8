// The host for fetch handlers (a function of a Request, or an object with a fetch method such
// as a Hono app): node:http in, Response out, failures to 500 or an aborted connection. Runs in
// the worker, per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failResponse, type GatewayLog } from '@bicorn/gateway';
import { toFetchRequest } from './fetch-request.js';
import { writeFetchResponse } from './fetch-response.js';
import { describeExport, type Callable } from './interface.js';

export interface FetchTarget {
  readonly handler: Callable;
  /** `this` for the call, so that method-style `fetch` keeps its object. */
  readonly self: unknown;
}

const BAD_REQUEST_BODY = Buffer.from('Bad Request\n');
const BAD_REQUEST_HEADERS = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(BAD_REQUEST_BODY.length)];

export function createFetchListener(target: FetchTarget, log: GatewayLog): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serveFetch(target, req, res, log);
  };
}

/** Never rejects. */
async function serveFetch(target: FetchTarget, req: IncomingMessage, res: ServerResponse, log: GatewayLog): Promise<void> {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  let request: Request;
  try {
    request = toFetchRequest(req, controller.signal);
  } catch (error) {
    log.debug({ err: error, host: req.headers.host, url: req.url }, 'cannot build a URL for the fetch handler');
    res.writeHead(400, BAD_REQUEST_HEADERS);
    res.end(BAD_REQUEST_BODY);
    return;
  }
  try {
    const response: unknown = await target.handler.call(target.self, request);
    if (!(response instanceof Response)) {
      throw new TypeError(`the fetch handler returned ${describeExport(response)}, not a Response`);
    }
    await writeFetchResponse(response, res, req.method === 'HEAD', log);
  } catch (error) {
    fail(error, req, res, log);
  } finally {
    // Readable.toWeb keeps a 'data' listener on a paused request, so a body the handler left
    // unread would stall the keep-alive connection: drop it, as node:http does for a request
    // nobody touched.
    if (!req.readableEnded) {
      req.removeAllListeners('data');
      req.resume();
    }
  }
}

function fail(error: unknown, req: IncomingMessage, res: ServerResponse, log: GatewayLog): void {
  const context = { err: error, method: req.method, url: req.url };
  if (res.destroyed && !res.writableFinished) {
    log.debug(context, 'fetch handler stopped: the client disconnected');
    return;
  }
  log.error(context, 'exception in fetch handler');
  failResponse(res);
}

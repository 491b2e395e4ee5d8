// The host for Node request listeners (`(req, res) => …`, an Express or Koa callback): the
// listener runs as it is. Runs in the worker, per request.
//
// What is caught: a synchronous throw and a rejected promise returned by the listener (an
// async listener), which become a log line and a 500, or an aborted connection if the
// response had started. What cannot be caught: errors thrown later from callbacks and timers
// the listener schedules, and 'error' events nobody listens to; those reach the process's
// uncaught-exception handling, exactly as under a bare node:http server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failResponse, type GatewayLog } from '@bicorn/gateway';
import type { Callable } from './interface.js';

export function createNodeListener(listener: Callable, log: GatewayLog): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let result: unknown;
    try {
      result = listener(req, res);
    } catch (error) {
      fail(error, req, res, log);
      return;
    }
    if (isThenable(result)) {
      result.then(undefined, (error: unknown) => {
        fail(error, req, res, log);
      });
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && 'then' in value && typeof value.then === 'function';
}

function fail(error: unknown, req: IncomingMessage, res: ServerResponse, log: GatewayLog): void {
  log.error({ err: error, method: req.method, url: req.url }, 'exception in request listener');
  failResponse(res);
}

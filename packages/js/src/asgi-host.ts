// The host for JavaScript ASGI apps: the lifespan startup at load, then each node:http request
// and each WebSocket through the gateway's ASGI mappings. Runs in the worker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  LifespanFailed,
  runLifespan,
  serveAsgiHttp,
  type AsgiCallable,
  type AsgiLifespanCallable,
  type AsgiWebSocketCallable,
  type Lifespan,
  type LifespanLog,
  type LifespanMode,
  type ServeAsgiHttpOptions,
} from '@bicorn/gateway';
import { BicornError } from '@bicorn/protocol';
import type { JsAppHost } from './load-app.js';

export interface AsgiHostOptions {
  readonly app: string;
  readonly rootPath: string;
  readonly lifespan: LifespanMode;
  readonly log: LifespanLog;
}

/** Rejects with LIFESPAN_FAILED when the app's startup fails. */
export async function startAsgiHost(app: AsgiCallable & AsgiLifespanCallable & AsgiWebSocketCallable, options: AsgiHostOptions): Promise<JsAppHost> {
  let lifespan: Lifespan;
  try {
    lifespan = await runLifespan(app, options.lifespan, options.log);
  } catch (error) {
    if (!(error instanceof LifespanFailed)) throw error;
    throw new BicornError('LIFESPAN_FAILED', { app: options.app, reason: error.message }, { cause: error });
  }
  return {
    interface: 'asgi',
    listener: createAsgiListener(app, { rootPath: options.rootPath, log: options.log, state: lifespan.state }),
    websocket: app,
    state: lifespan.state,
    close: (timeoutMs) => lifespan.shutdown(timeoutMs),
  };
}

export function createAsgiListener(app: AsgiCallable, options: ServeAsgiHttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serveAsgiHttp(app, req, res, options);
  };
}

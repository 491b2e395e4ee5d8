// The host for JavaScript ASGI apps: each node:http request goes through the gateway's
// HTTP ⇄ ASGI mapping. Runs in the worker, per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveAsgiHttp, type AsgiCallable, type GatewayLog, type ServeAsgiHttpOptions } from '@bicorn/gateway';

export function createAsgiListener(
  app: AsgiCallable,
  options: { readonly rootPath: string; readonly log: GatewayLog },
): (req: IncomingMessage, res: ServerResponse) => void {
  const serveOptions: ServeAsgiHttpOptions = { rootPath: options.rootPath, log: options.log };
  return (req, res) => {
    void serveAsgiHttp(app, req, res, serveOptions);
  };
}

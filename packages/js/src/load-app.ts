// Loads a JavaScript app and returns the node:http listener that serves it: import, pick the
// export, tell or check its interface, and choose the host. Runs in the worker at boot.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayLog } from '@bicorn/gateway';
import { assertNever, BicornError } from '@bicorn/protocol';
import { createAsgiListener } from './asgi-host.js';
import { createFetchListener } from './fetch-host.js';
import { describeExport, detectInterface, hasFetchMethod, isPlainFunction, type JsInterface, type JsInterfaceOption } from './interface.js';
import { importAppExport, type AppExport } from './load-module.js';
import { createNodeListener } from './node-host.js';

export interface LoadJsAppOptions {
  /** `path/to/app.mjs` or `path/to/app.mjs:exportName`, relative to `cwd` or absolute. */
  readonly app: string;
  readonly interface: JsInterfaceOption;
  readonly cwd: string;
  readonly rootPath: string;
  readonly log: GatewayLog;
}

export interface JsAppHost {
  readonly interface: JsInterface;
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
}

export async function loadJsApp(options: LoadJsAppOptions): Promise<JsAppHost> {
  const loaded = await importAppExport(options.app, options.cwd);
  const kind = options.interface === 'auto' ? detectInterface(loaded.value) : options.interface;
  if (kind === undefined) {
    throw new BicornError('APP_INTERFACE_UNKNOWN', { app: options.app, found: describeExport(loaded.value) });
  }
  return { interface: kind, listener: listenerFor(kind, loaded, options) };
}

function listenerFor(kind: JsInterface, loaded: AppExport, options: LoadJsAppOptions): JsAppHost['listener'] {
  const { value } = loaded;
  switch (kind) {
    case 'asgi':
      if (isPlainFunction(value)) return createAsgiListener(value, options);
      throw unusable(kind, 'a function', loaded, options.app);
    case 'fetch':
      if (isPlainFunction(value)) return createFetchListener({ handler: value, self: undefined }, options.log);
      if (hasFetchMethod(value)) return createFetchListener({ handler: value.fetch, self: value }, options.log);
      throw unusable(kind, 'a function or an object with a fetch method', loaded, options.app);
    case 'node':
      if (isPlainFunction(value)) return createNodeListener(value, options.log);
      throw unusable(kind, 'a function', loaded, options.app);
    default:
      return assertNever(kind, 'interface');
  }
}

function unusable(kind: JsInterface, needs: string, loaded: AppExport, app: string): BicornError {
  return new BicornError('APP_EXPORT_INVALID', {
    app,
    exportName: loaded.exportName,
    found: `${describeExport(loaded.value)}, which --interface ${kind} cannot run (it needs ${needs})`,
    available: loaded.available,
  });
}

// Loads a JavaScript app and returns the node:http listener that serves it: import, pick the
// export, tell or check its interface, and choose the host. Runs in the worker at boot.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsgiWebSocketCallable, LifespanLog, LifespanMode } from '@bicorn/gateway';
import { assertNever, BicornError } from '@bicorn/protocol';
import { startAsgiHost } from './asgi-host.js';
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
  /** ASGI lifespan events (ASGI apps only). */
  readonly lifespan: LifespanMode;
  readonly log: LifespanLog;
}

export interface JsAppHost {
  readonly interface: JsInterface;
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Set for apps that take WebSockets (ASGI apps). */
  readonly websocket?: AsgiWebSocketCallable | undefined;
  /** The lifespan state, which every scope gets a copy of. */
  readonly state?: Record<string, unknown> | undefined;
  /** Runs the app's shutdown (ASGI lifespan), at most `timeoutMs`; never rejects. */
  close(timeoutMs: number): Promise<void>;
}

export async function loadJsApp(options: LoadJsAppOptions): Promise<JsAppHost> {
  const loaded = await importAppExport(options.app, options.cwd);
  const kind = options.interface === 'auto' ? detectInterface(loaded.value) : options.interface;
  if (kind === undefined) {
    throw new BicornError('APP_INTERFACE_UNKNOWN', { app: options.app, found: describeExport(loaded.value) });
  }
  return hostFor(kind, loaded, options);
}

async function hostFor(kind: JsInterface, loaded: AppExport, options: LoadJsAppOptions): Promise<JsAppHost> {
  const { value } = loaded;
  switch (kind) {
    case 'asgi':
      if (isPlainFunction(value)) return startAsgiHost(value, options);
      throw unusable(kind, 'a function', loaded, options.app);
    case 'fetch':
      if (isPlainFunction(value)) return plainHost(kind, createFetchListener({ handler: value, self: undefined }, options.log));
      if (hasFetchMethod(value)) return plainHost(kind, createFetchListener({ handler: value.fetch, self: value }, options.log));
      throw unusable(kind, 'a function or an object with a fetch method', loaded, options.app);
    case 'node':
      if (isPlainFunction(value)) return plainHost(kind, createNodeListener(value, options.log));
      throw unusable(kind, 'a function', loaded, options.app);
    default:
      return assertNever(kind, 'interface');
  }
}

function plainHost(kind: JsInterface, listener: JsAppHost['listener']): JsAppHost {
  return { interface: kind, listener, close: () => Promise.resolve() };
}

function unusable(kind: JsInterface, needs: string, loaded: AppExport, app: string): BicornError {
  return new BicornError('APP_EXPORT_INVALID', {
    app,
    exportName: loaded.exportName,
    found: `${describeExport(loaded.value)}, which --interface ${kind} cannot run (it needs ${needs})`,
    available: loaded.available,
  });
}

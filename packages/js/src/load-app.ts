// Loads a JavaScript app and returns the node:http listener that serves it: import, pick the
// export, tell or check its interface, and choose the host. Runs in the worker at boot.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsgiWebSocketCallable, LifespanLog, LifespanMode } from '@bicorn/gateway';
import { assertNever, BicornError } from '@bicorn/protocol';
import { describeExport, detectInterface, hasFetchMethod, isPlainFunction, type Callable, type JsInterface, type JsInterfaceOption } from './interface.js';
import { importAppExport, type AppExport } from './load-module.js';

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
  return hostFor(await importApp(options.app, options.interface, options.cwd), options);
}

/**
 * Imports the app and finds the interface it is served by, without starting it (no lifespan):
 * `bicorn check --load-app`. Throws what loadJsApp would.
 */
export async function checkJsApp(app: string, wanted: JsInterfaceOption, cwd: string): Promise<JsInterface> {
  return (await importApp(app, wanted, cwd)).kind;
}

/** An export that can be served, as what. */
type Servable =
  | { readonly kind: 'asgi' | 'node'; readonly fn: Callable }
  | { readonly kind: 'fetch'; readonly handler: Callable; readonly self: unknown };

async function importApp(app: string, wanted: JsInterfaceOption, cwd: string): Promise<Servable> {
  const loaded = await importAppExport(app, cwd);
  const { value } = loaded;
  const kind = wanted === 'auto' ? detectInterface(value) : wanted;
  if (kind === undefined) throw new BicornError('APP_INTERFACE_UNKNOWN', { app, found: describeExport(value) });
  if (kind === 'fetch') {
    if (isPlainFunction(value)) return { kind, handler: value, self: undefined };
    if (hasFetchMethod(value)) return { kind, handler: value.fetch, self: value };
    throw unusable(kind, 'a function or an object with a fetch method', loaded, app);
  }
  if (isPlainFunction(value)) return { kind, fn: value };
  throw unusable(kind, 'a function', loaded, app);
}

async function hostFor(servable: Servable, options: LoadJsAppOptions): Promise<JsAppHost> {
  switch (servable.kind) {
    // Each host loads for its own apps only: the master checks every JS app with this module
    // and serves none, and the gateway's mappings that the hosts bring weigh on its heap.
    case 'asgi': {
      const { startAsgiHost } = await import('./asgi-host.js');
      return startAsgiHost(servable.fn, options);
    }
    case 'fetch': {
      // Loaded for fetch apps only: it loads undici's Request and Response (about 6 MiB).
      const { createFetchListener } = await import('./fetch-host.js');
      return plainHost('fetch', createFetchListener({ handler: servable.handler, self: servable.self }, options.log));
    }
    case 'node': {
      const { createNodeListener } = await import('./node-host.js');
      return plainHost('node', createNodeListener(servable.fn, options.log));
    }
    default:
      return assertNever(servable, 'interface');
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

// Choosing and starting the app host for a worker's config: JavaScript in-process, or a
// Python app process. Runs in a worker.
import { servableApp, type Config } from '@bicorn/config';
import type { AsgiWebSocketCallable } from '@bicorn/gateway';
import type { AppInterface, AppLoad, LimitKind } from '@bicorn/protocol';
import type { Logger } from '@bicorn/runtime';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { PythonAppHooks } from './python-app.js';

export interface AppHost {
  readonly interface: AppInterface;
  readonly listener: RequestListener;
  /** Runs each WebSocket; without it, upgrade requests reach `listener` as plain HTTP requests. */
  readonly websocket: AsgiWebSocketCallable | undefined;
  /** The lifespan state for in-process apps, which every scope gets a copy of. */
  readonly state: Record<string, unknown> | undefined;
  /** The process that runs the app: the Python process, or this worker. */
  readonly appPid: number | undefined;
  /** What the app can take on now. */
  load(): AppLoad;
  /** `listener` runs whenever the load may have changed. */
  watchLoad(listener: () => void): void;
  /** The Python process, for a Python app. */
  readonly pythonPid: number | undefined;
  /**
   * A request timed out. Returns whether the app's process is stuck and the worker should be
   * replaced; a Python process then logs its stacks first.
   */
  requestTimedOut(req: IncomingMessage, responseStarted: boolean): boolean;
  /** Stops the app (the Python process finishes what is in flight); resolves when it has. The same promise on every call. */
  close(timeoutMs: number): Promise<void>;
  /** Stops the app now: a fast stop during a graceful one. */
  destroy(): void;
  /** Scaling moved the count of serving workers: a host that shares by it (the Python app's) sizes itself again. */
  workersChanged?(count: number): void;
}

/**
 * An app in this process can always start a request: if its event loop is blocked, nothing in
 * the worker runs, and the master's heartbeat finds it.
 */
const IN_PROCESS_LOAD: AppLoad = { free: true, waiting: 0, served: 0, blocked: false };

/** Under --reload, an app that failed to load: every request gets the error, until the next change. */
export function failedAppHost(message: string): AppHost {
  const body = Buffer.from(`The app failed to load (bicorn --reload: fix it and save, and the workers reload):\n\n${message}\n`);
  return {
    interface: 'none',
    listener: (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
      res.end(body);
    },
    websocket: undefined,
    state: undefined,
    appPid: process.pid,
    load: () => IN_PROCESS_LOAD,
    watchLoad: () => undefined,
    pythonPid: undefined,
    requestTimedOut: () => false,
    close: () => Promise.resolve(),
    destroy: () => undefined,
  };
}

/**
 * `hooks` hear of a Python process that starts, that dies, and of one that cannot be started
 * again; `limitRejected` of a request the Python host refused for a limit.
 */
export async function startAppHost(config: Config, log: Logger, hooks: PythonAppHooks, limitRejected: (kind: LimitKind) => void): Promise<AppHost> {
  const servable = servableApp(config);
  const cwd = process.cwd();
  // Each host is loaded only for the apps it runs: a worker holds one of them, not both.
  if (servable.kind === 'js') {
    const { loadJsApp } = await import('@bicorn/js');
    const host = await loadJsApp({ app: servable.app, interface: servable.interface, cwd, rootPath: config.root_path, lifespan: config.lifespan, log });
    let closing: Promise<void> | undefined;
    return {
      interface: host.interface,
      listener: host.listener,
      websocket: host.websocket,
      state: host.state,
      appPid: process.pid,
      load: () => IN_PROCESS_LOAD,
      watchLoad: () => undefined,
      pythonPid: undefined,
      // A JS app that hangs its event loop is caught by the heartbeat; one that only never
      // answers leaves nothing stuck once its request is ended.
      requestTimedOut: () => false,
      close: (timeoutMs) => (closing ??= host.close(timeoutMs)),
      // The lifespan shutdown is bounded by its timeout; the process exits after it either way.
      destroy: () => undefined,
    };
  }
  const { startPythonApp } = await import('./python-app.js');
  return startPythonApp(config, servable, log, hooks, limitRejected);
}

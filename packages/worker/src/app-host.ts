// Choosing and starting the app host for a worker's config: JavaScript in-process, or a
// Python app process. Runs in a worker.
import { servableApp, type Config } from '@bicorn/config';
import type { AsgiWebSocketCallable } from '@bicorn/gateway';
import { loadJsApp } from '@bicorn/js';
import { PythonHost, RunnerProcess, Spool, appEnvironment, findInterpreter } from '@bicorn/python';
import type { Load } from '@bicorn/protocol';
import { planSpool, type Logger } from '@bicorn/runtime';
import type { RequestListener } from 'node:http';

export interface AppHost {
  readonly interface: string;
  readonly listener: RequestListener;
  /** Runs each WebSocket; without it, upgrade requests reach `listener` as plain HTTP requests. */
  readonly websocket: AsgiWebSocketCallable | undefined;
  /** The lifespan state for in-process apps, which every scope gets a copy of. */
  readonly state: Record<string, unknown> | undefined;
  /** The process that runs the app: the Python process, or this worker. */
  readonly appPid: number | undefined;
  /** What the app can take on now. */
  load(): Load;
  /** `listener` runs whenever the load may have changed. */
  watchLoad(listener: () => void): void;
  /**
   * A request timed out. Returns whether the app's process is stuck and the worker should be
   * replaced; a Python process then logs its stacks first.
   */
  requestTimedOut(responseStarted: boolean): boolean;
  /** Stops the app (the Python process finishes what is in flight); resolves when it has. The same promise on every call. */
  close(timeoutMs: number): Promise<void>;
  /** Stops the app now: a fast stop during a graceful one. */
  destroy(): void;
}

/**
 * An app in this process can always start a request: if its event loop is blocked, nothing in
 * the worker runs, and the master's heartbeat finds it.
 */
const IN_PROCESS_LOAD: Load = { free: true, waiting: 0 };

/** Makes the Python runner print every thread's stack to its stderr (faulthandler). */
const DUMP_STACKS = 'SIGUSR2';

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
    requestTimedOut: () => false,
    close: () => Promise.resolve(),
    destroy: () => undefined,
  };
}

/** `onDeath` is called if the app's own process dies; the worker cannot serve after that. */
export async function startAppHost(config: Config, log: Logger, onDeath: () => void): Promise<AppHost> {
  const servable = servableApp(config);
  const cwd = process.cwd();
  if (servable.kind === 'js') {
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
      // A JS app that hangs its event loop is caught by the heartbeat; one that only never
      // answers leaves nothing stuck once its request is ended.
      requestTimedOut: () => false,
      close: (timeoutMs) => (closing ??= host.close(timeoutMs)),
      // The lifespan shutdown is bounded by its timeout; the process exits after it either way.
      destroy: () => undefined,
    };
  }
  const runner = await RunnerProcess.start({
    interpreter: findInterpreter(config.python, process.env),
    app: servable.app,
    interface: servable.interface,
    threads: config.threads,
    window: config.stream_window,
    multiprocess: config.workers > 1,
    loop: config.loop,
    lifespan: config.lifespan,
    cwd,
    env: appEnvironment(process.env, { env: config.env, envFile: config.env_file, pythonpath: config.pythonpath, cwd }),
    log,
  });
  const spool = planSpool(config.spool_dir, config.spool_budget, config.workers);
  const host = new PythonHost(runner, {
    window: config.stream_window,
    rootPath: config.root_path,
    threads: config.threads,
    queueTimeoutMs: config.queue_timeout * 1000,
    spool: new Spool(spool.dir, spool.budgetBytes),
    log,
  });
  let closing: Promise<void> | undefined;
  let destroyed = false;
  void runner.exited.then(async ({ code, signal }) => {
    if (closing !== undefined || destroyed) return;
    log.error({ pythonPid: runner.pid, code, signal }, 'the Python process died; answering 502 for its requests and replacing this worker');
    await host.failAll();
    onDeath();
  });
  return {
    interface: runner.interface,
    listener: host.listener,
    // The gateway runs the WebSocket; the host relays its events to an ASGI app (WSGI has none).
    websocket: runner.interface === 'asgi' ? host.websocket : undefined,
    // The Python app's lifespan state lives in its own process.
    state: undefined,
    appPid: runner.pid,
    load: () => host.load(),
    watchLoad: (listener) => {
      host.watchLoad(listener);
    },
    requestTimedOut: (responseStarted) => {
      // Once a response has begun, the client may be what stalled; before, it is the app.
      if (responseStarted || runner.pid === undefined) return false;
      log.error({ pythonPid: runner.pid }, "the Python app did not answer in time; its threads' stacks follow, then this worker is replaced");
      process.kill(runner.pid, DUMP_STACKS);
      return true;
    },
    close: (timeoutMs) =>
      (closing ??= runner.shutdown(timeoutMs).then(({ code, signal }) => {
        if (signal === null) log.info({ pythonPid: runner.pid, code }, 'python process stopped');
        else if (destroyed || timeoutMs === 0) log.info({ pythonPid: runner.pid, signal }, 'python process killed: a fast stop');
        else log.warn({ pythonPid: runner.pid, signal }, 'python process did not stop in time; killed');
      })),
    destroy: () => {
      destroyed = true;
      runner.kill();
    },
  };
}

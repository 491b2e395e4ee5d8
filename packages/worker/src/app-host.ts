// Choosing and starting the app host for a worker's config: JavaScript in-process, or a
// Python app process. Runs in a worker.
import { gunicornView, servableApp, type Config } from '@bicorn/config';
import type { AsgiWebSocketCallable } from '@bicorn/gateway';
import type { AppInterface } from '@bicorn/protocol';
import type { HookContext } from '@bicorn/python';
import type { Logger } from '@bicorn/runtime';
import type { RequestListener } from 'node:http';

export interface AppHost {
  readonly interface: AppInterface;
  readonly listener: RequestListener;
  /** Runs each WebSocket; without it, upgrade requests reach `listener` as plain HTTP requests. */
  readonly websocket: AsgiWebSocketCallable | undefined;
  /** The lifespan state for in-process apps, which every scope gets a copy of. */
  readonly state: Record<string, unknown> | undefined;
  /** The process that runs the app: the Python process, or this worker. */
  readonly appPid: number | undefined;
  /** The Python process, for a Python app. */
  readonly pythonPid: number | undefined;
  /**
   * A request timed out. Returns whether the app's process is stuck and the worker should be
   * replaced; a Python process then logs its stacks first.
   */
  requestTimedOut(responseStarted: boolean): boolean;
  /** Stops the app (the Python process finishes what is in flight); resolves when it has. */
  close(timeoutMs: number): Promise<void>;
}

/** Makes the Python runner print every thread's stack to its stderr (faulthandler). */
const DUMP_STACKS = 'SIGUSR2';
/** How long worker_int or worker_abort of a gunicorn config may run before the Python process is killed. */
const STOP_HOOK_GRACE_MS = 1_000;

/** What the app host needs of its worker. */
export interface AppHostWorker {
  /** gunicorn's worker.age for the config's hooks. */
  readonly id: number;
  /** The app's own process died; the worker cannot serve after that. */
  readonly onAppDeath: () => void;
  /** A Python process started, with this pid. */
  readonly onAppSpawn: (pid: number) => void;
}

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
    pythonPid: undefined,
    requestTimedOut: () => false,
    close: () => Promise.resolve(),
  };
}

/** `onDeath` is called if the app's own process dies; the worker cannot serve after that. */
export async function startAppHost(config: Config, log: Logger, worker: AppHostWorker): Promise<AppHost> {
  const servable = servableApp(config);
  const cwd = process.cwd();
  // Each host is loaded only for the apps it runs: a worker holds one of them, not both.
  if (servable.kind === 'js') {
    const { loadJsApp } = await import('@bicorn/js');
    const host = await loadJsApp({ app: servable.app, interface: servable.interface, cwd, rootPath: config.root_path, lifespan: config.lifespan, log });
    return {
      interface: host.interface,
      listener: host.listener,
      websocket: host.websocket,
      state: host.state,
      appPid: process.pid,
      pythonPid: undefined,
      // A JS app that hangs its event loop is caught by the heartbeat; one that only never
      // answers leaves nothing stuck once its request is ended.
      requestTimedOut: () => false,
      close: (timeoutMs) => host.close(timeoutMs),
    };
  }
  const { PythonHost, RunnerProcess, appEnvironment, findInterpreter, spooledBytes } = await import('@bicorn/python');
  const runner = await RunnerProcess.start({
    interpreter: findInterpreter(config.python, process.env),
    app: servable.app,
    interface: servable.interface,
    threads: config.threads,
    window: config.stream_window,
    multiprocess: config.workers > 1,
    loop: config.loop,
    lifespan: config.lifespan,
    factory: config.factory,
    hooks: config.gunicorn_config === null ? undefined : { config: config.gunicorn_config, context: hookContext(config, config.gunicorn_config, worker.id) },
    gevent: config.wsgi_concurrency === 'gevent' ? { workerConnections: config.worker_connections } : undefined,
    logConfig: config.log_config,
    procName: config.proc_name,
    onSpawn: worker.onAppSpawn,
    cwd,
    env: appEnvironment(process.env, { env: config.env, envFile: config.env_file, pythonpath: config.pythonpath, cwd }),
    log,
  });
  const host = new PythonHost(runner, { window: config.stream_window, rootPath: config.root_path, log });
  let closing = false;
  let stuck = false;
  void runner.exited.then(async ({ code, signal }) => {
    if (closing) return;
    log.error({ pythonPid: runner.pid, code, signal }, 'the Python process died; answering 502 for its requests and replacing this worker');
    await host.destroy(new Error(`the Python process died (${signal ?? `exit code ${String(code)}`})`));
    worker.onAppDeath();
  });
  return {
    interface: runner.interface === 'asgi' ? 'asgi' : 'wsgi',
    listener: host.listener,
    // The gateway runs the WebSocket; the host relays its events to an ASGI app (WSGI has none).
    websocket: runner.interface === 'asgi' ? host.websocket : undefined,
    // The Python app's lifespan state lives in its own process.
    state: undefined,
    appPid: runner.pid,
    pythonPid: runner.pid,
    requestTimedOut: (responseStarted) => {
      // Once a response has begun, the client may be what stalled; before, it is the app.
      if (responseStarted || runner.pid === undefined) return false;
      log.error({ pythonPid: runner.pid }, "the Python app did not answer in time; its threads' stacks follow, then this worker is replaced");
      process.kill(runner.pid, DUMP_STACKS);
      stuck = true;
      return true;
    },
    close: async (timeoutMs) => {
      closing = true;
      // With a gunicorn config, a stop that cannot wait lets worker_int (a fast stop) or
      // worker_abort (an app given up as stuck) run first, as gunicorn's SIGQUIT and SIGABRT do.
      const interrupted = timeoutMs === 0 && config.gunicorn_config !== null;
      const { code, signal } = interrupted ? await runner.interrupt(stuck ? 'SIGABRT' : 'SIGQUIT', STOP_HOOK_GRACE_MS) : await runner.shutdown(timeoutMs);
      // What this worker spooled to disk over its life: the benchmarks read it, and a large
      // figure tells an operator that clients read slower than the app writes.
      if (signal === null) log.info({ pythonPid: runner.pid, code, spooledBytes: spooledBytes() }, 'python process stopped');
      else log.warn({ pythonPid: runner.pid, signal, spooledBytes: spooledBytes() }, 'python process did not stop in time; killed');
    },
  };
}

/** What the Python process's server hooks are told: this worker, and its master (its parent). */
function hookContext(config: Config, file: string, workerId: number): HookContext {
  return { file, masterPid: process.ppid, age: workerId, numWorkers: config.workers, procName: config.proc_name, cfg: gunicornView(config) };
}

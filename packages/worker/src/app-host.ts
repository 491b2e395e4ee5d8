// Choosing and starting the app host for a worker's config: JavaScript in-process, or a
// Python app process. Runs in a worker.
import { servableApp, type Config } from '@bicorn/config';
import type { AsgiWebSocketCallable } from '@bicorn/gateway';
import { loadJsApp } from '@bicorn/js';
import { PythonHost, RunnerProcess, appEnvironment, findInterpreter } from '@bicorn/python';
import type { Logger } from '@bicorn/runtime';
import type { RequestListener } from 'node:http';

export interface AppHost {
  readonly interface: string;
  readonly listener: RequestListener;
  /** Runs each WebSocket; without it, upgrade requests reach `listener` as plain HTTP requests. */
  readonly websocket: AsgiWebSocketCallable | undefined;
  /** The lifespan state for in-process apps, which every scope gets a copy of. */
  readonly state: Record<string, unknown> | undefined;
  /** Stops the app (the Python process finishes what is in flight); resolves when it has. */
  close(timeoutMs: number): Promise<void>;
}

/** `onDeath` is called if the app's own process dies; the worker cannot serve after that. */
export async function startAppHost(config: Config, log: Logger, onDeath: () => void): Promise<AppHost> {
  const servable = servableApp(config);
  const cwd = process.cwd();
  if (servable.kind === 'js') {
    const host = await loadJsApp({ app: servable.app, interface: servable.interface, cwd, rootPath: config.root_path, lifespan: config.lifespan, log });
    return { interface: host.interface, listener: host.listener, websocket: host.websocket, state: host.state, close: (timeoutMs) => host.close(timeoutMs) };
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
  const host = new PythonHost(runner, { window: config.stream_window, rootPath: config.root_path, log });
  let closing = false;
  void runner.exited.then(async ({ code, signal }) => {
    if (closing) return;
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
    close: async (timeoutMs) => {
      closing = true;
      const { code, signal } = await runner.shutdown(timeoutMs);
      if (signal === null) log.info({ pythonPid: runner.pid, code }, 'python process stopped');
      else log.warn({ pythonPid: runner.pid, signal }, 'python process did not stop in time; killed');
    },
  };
}

// A worker's Python app: its Python process (the runner) and the PythonHost that relays
// requests to it. When the process dies, what it had started gets a 502 and the rest waits,
// while the worker starts another in place, at once unless the dead one served for less time
// than its boot took (replacementDelay): the worker keeps its connections, and no request the
// app had not started is lost. The master hears of each death; a process that cannot be
// started again ends the worker, as a boot failure. Runs in a worker.
import { gunicornView, usableCpus, type Config, type ServableApp } from '@bicorn/config';
import { BicornError, ExitCode, isBicornError, type LimitKind } from '@bicorn/protocol';
import { PythonHost, RunnerProcess, Spool, appEnvironment, findInterpreter, type HookContext, type RunnerOptions } from '@bicorn/python';
import { planSpool, replacementDelay, type Logger } from '@bicorn/runtime';
import type { AppHost } from './app-host.js';
import { websocketMessageLimit } from './websocket-upgrades.js';

/** A death of the app's process, for the master's tally. */
export interface AppDeath {
  /** The signal that killed it, or `exit N`. */
  readonly cause: string;
  /** The requests it had started, as `METHOD path`. */
  readonly inFlight: readonly string[];
}

export interface PythonAppHooks {
  /** This worker's id: gunicorn's worker.age for a gunicorn config's hooks. */
  readonly workerId: number;
  /** A Python process started, with this pid: the first, and each one after a death. */
  readonly appSpawned: (pid: number) => void;
  /** The process died; another is being started. */
  readonly appDied: (death: AppDeath) => void;
  /** No other process could be started: the worker cannot serve any more. */
  readonly appLost: (error: BicornError) => void;
}

/** Makes the Python runner print every thread's stack to its stderr (faulthandler). */
const DUMP_STACKS = 'SIGUSR2';
/** How long worker_int or worker_abort of a gunicorn config may run before the Python process is killed. */
const STOP_HOOK_GRACE_MS = 1_000;
/**
 * Requests without a body a WSGI app's process is sent beyond its threads, where each waits for
 * one: it then goes from one request to the next without waiting for the worker between them,
 * which with one thread more than triples what it serves (frames/SPEC.md says why the worker
 * still knows which ones it never started).
 */
const SEND_AHEAD = 64;

/**
 * Whether each worker and its Python process have at most one CPU between them: the workers are
 * as many as the CPUs bicorn may use (the cores, or a container's CPU limit, its cgroup's quota).
 * The two then take turns on a core more than they run side by side, and each frame written at
 * once mostly wakes the Python process for a request or two, costing CPU the others need;
 * gathered until the end of the event loop's turn, the frames leave in one write. On 2 cores at
 * -w 2 that took the ASGI hello 28.6k -> 33.2k requests/s, WSGI hello 25.7k -> 28.8k, WebSocket
 * echo 26.6k -> 32.2k round trips/s; at -w 1 under a quota of 1 CPU, ASGI hello 19.1k -> 20.1k
 * and WebSocket echo 25.7k -> 27.4k. With more for the pair, writing at once lets the two run side
 * by side: gathered, the ASGI hello fell from 25.5k to 17.1k requests/s at -w 1 on 2 cores, from
 * 26.2k to 19.6k under a quota of 1.5 CPUs, and from 23.0k to 21.2k under 1.25. (A WSGI app's
 * frames always leave once per turn: see RunnerProcess.)
 */
function sharesCores(workers: number): boolean {
  return workers >= usableCpus().value;
}

/** `limitRejected`: a request got a 503 for queue_timeout or spool_budget, for the metrics. */
export async function startPythonApp(
  config: Config,
  servable: Extract<ServableApp, { kind: 'python' }>,
  log: Logger,
  hooks: PythonAppHooks,
  limitRejected: (kind: LimitKind) => void,
): Promise<AppHost> {
  const cwd = process.cwd();
  let options: RunnerOptions = {
    interpreter: findInterpreter(config.python, process.env),
    app: servable.app,
    interface: servable.interface,
    threads: config.threads,
    window: config.stream_window,
    multiprocess: config.workers > 1,
    writeOncePerTurn: sharesCores(config.workers),
    loop: config.loop,
    websocket: {
      maxSize: websocketMessageLimit(config),
      pingIntervalS: config.ws_ping_interval,
      pingTimeoutS: config.ws_ping_timeout,
    },
    lifespan: config.lifespan,
    factory: config.factory,
    hooks: config.gunicorn_config === null ? undefined : { config: config.gunicorn_config, context: hookContext(config, config.gunicorn_config, hooks.workerId) },
    gevent: config.wsgi_concurrency === 'gevent' ? { workerConnections: config.worker_connections } : undefined,
    logConfig: config.log_config,
    procName: config.proc_name,
    onSpawn: hooks.appSpawned,
    cwd,
    env: appEnvironment(process.env, { env: config.env, envFile: config.env_file, pythonpath: config.pythonpath, cwd }),
    log,
  };
  let bootAt = Date.now();
  /** The live process; undefined from its death until the next one is ready. */
  let runner: RunnerProcess | undefined = await RunnerProcess.start(options);
  let readyAt = Date.now();
  const appInterface = runner.interface === 'asgi' ? 'asgi' : 'wsgi';
  const plan = planSpool(config.spool_dir, config.spool_budget, config.workers);
  const spool = new Spool(plan.dir, plan.budgetBytes, config.upload_memory);
  const host = new PythonHost(runner, {
    window: config.stream_window,
    rootPath: config.root_path,
    // What the app can run at once: its threads, or under gevent its greenlets.
    threads: config.wsgi_concurrency === 'gevent' ? config.worker_connections : config.threads,
    // Greenlets start whatever they are sent, so under gevent nothing waits in the process.
    sendAhead: config.wsgi_concurrency === 'gevent' ? 0 : SEND_AHEAD,
    queueTimeoutMs: config.queue_timeout * 1000,
    spool,
    streamWsgiUploads: config.no_request_buffering,
    limitRejected,
    log,
  });
  let closing: Promise<void> | undefined;
  let destroyed = false;
  /** A request found the app stuck: a gunicorn config's worker_abort runs at the stop. */
  let stuck = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const over = (): boolean => closing !== undefined || destroyed;

  const restart = async (): Promise<void> => {
    bootAt = Date.now();
    let next: RunnerProcess;
    try {
      next = await RunnerProcess.start(options);
    } catch (error) {
      if (over()) return;
      host.refuseWaiting();
      hooks.appLost(isBicornError(error) ? error : new BicornError('PYTHON_APP_FAILED', { app: servable.app, exitCode: ExitCode.WorkerBoot, message: String(error) }));
      return;
    }
    if (over()) {
      next.kill();
      return;
    }
    readyAt = Date.now();
    runner = next;
    host.useRunner(next, readyAt - bootAt);
    log.info({ pythonPid: next.pid, bootMs: readyAt - bootAt, waiting: host.load().waiting }, 'a new Python process is ready; the requests that waited for it start');
    supervise(next);
  };

  const supervise = (current: RunnerProcess): void => {
    void current.exited.then(async ({ code, signal }) => {
      if (over()) return;
      host.runnerExited();
      // Its last frames tell which requests it ended, and so which it never started.
      await current.framesRead();
      if (over()) return;
      const now = Date.now();
      runner = undefined;
      const inFlight = host.lostRunner(new Error(`the Python process died (${signal ?? `exit code ${String(code)}`})`));
      const restartInMs = replacementDelay(readyAt - bootAt, now - readyAt);
      log.error(
        { pythonPid: current.pid, code, signal, inFlight, waiting: host.load().waiting, restartInMs },
        'the Python process died: what it had started gets a 502, and the requests it had not started wait for the next one',
      );
      hooks.appDied({ cause: signal ?? `exit ${String(code)}`, inFlight });
      restartTimer = setTimeout(() => void restart(), restartInMs);
    });
  };
  supervise(runner);

  return {
    interface: appInterface,
    listener: host.listener,
    // The gateway runs the WebSocket; the host relays its events to an ASGI app (WSGI has none).
    websocket: appInterface === 'asgi' ? host.websocket : undefined,
    // The Python app's lifespan state lives in its own process.
    state: undefined,
    get appPid() {
      return runner?.pid;
    },
    get pythonPid() {
      return runner?.pid;
    },
    load: () => host.load(),
    watchLoad: (listener) => {
      host.watchLoad(listener);
    },
    requestTimedOut: (req, responseStarted) => {
      // Once a response has begun, the client may be what stalled; before, it is the app, once
      // it has the request (not while it waits to go, or while its body comes).
      const pid = runner?.pid;
      if (responseStarted || pid === undefined || !host.waitsOnApp(req)) return false;
      log.error({ pythonPid: pid }, "the Python app did not answer in time; its threads' stacks follow, then this worker is replaced");
      process.kill(pid, DUMP_STACKS);
      stuck = true;
      return true;
    },
    close: (timeoutMs) =>
      (closing ??= (async () => {
        clearTimeout(restartTimer);
        host.refuseWaiting();
        const current = runner;
        if (current === undefined) return;
        // With a gunicorn config, a stop that cannot wait lets worker_int (a fast stop) or
        // worker_abort (an app given up as stuck) run first, as gunicorn's SIGQUIT and SIGABRT do.
        const interrupted = timeoutMs === 0 && config.gunicorn_config !== null;
        const { code, signal } = interrupted ? await current.interrupt(stuck ? 'SIGABRT' : 'SIGQUIT', STOP_HOOK_GRACE_MS) : await current.shutdown(timeoutMs);
        // What this worker spooled to disk over its life: the benchmarks read it, and a large
        // figure tells an operator that clients read slower than the app writes.
        const spooledBytes = spool.spooledBytes();
        if (signal === null) log.info({ pythonPid: current.pid, code, spooledBytes }, 'python process stopped');
        else if (destroyed || timeoutMs === 0) log.info({ pythonPid: current.pid, signal, spooledBytes }, 'python process killed: a fast stop');
        else log.warn({ pythonPid: current.pid, signal, spooledBytes }, 'python process did not stop in time; killed');
      })()),
    destroy: () => {
      destroyed = true;
      clearTimeout(restartTimer);
      host.refuseWaiting();
      runner?.kill();
    },
    // As a worker booted at this count would be: its part of the spool budget, the once-per-turn
    // rule, and the multiprocess flag of the Python processes started from now on.
    workersChanged: (count) => {
      options = { ...options, multiprocess: count > 1, writeOncePerTurn: sharesCores(count) };
      runner?.writeOncePerTurn(options.writeOncePerTurn === true);
      spool.resizeDisk(planSpool(config.spool_dir, config.spool_budget, count).budgetBytes);
    },
  };
}

/** What the Python process's server hooks are told: this worker, and its master (its parent). */
function hookContext(config: Config, file: string, workerId: number): HookContext {
  return { file, masterPid: process.ppid, age: workerId, numWorkers: config.workers, procName: config.proc_name, cfg: gunicornView(config) };
}

// A gunicorn config's master-side server hooks, in the hook process of @bicorn/python, at the
// master's named points. Which ones hold anything up, and for how long at most (hook_timeout):
//   on_starting       before the listeners bind: delays the start; raising stops bicorn (exit 1)
//   when_ready        once every first worker serves; raising stops bicorn (exit 1), as gunicorn
//   on_reload         a reload's config is read, before its workers fork
//   pre_fork          as a worker is forked (the fork does not wait)
//   child_exit        a worker has exited (worker.pid: its Python process)
//   nworkers_changed  at start (None before), on TTIN/TTOU and on a reload that changes workers
//   on_exit           after the last worker stopped: delays the exit
// The arbiter never waits for a hook: it calls these and goes on; the hooks run one at a time,
// in order, in their own process. A hook that raises is logged with its traceback, one that
// runs past hook_timeout is killed (the process starts again for the next). Runs in the master.
import { gunicornView, type Config } from '@bicorn/config';
import { BicornError, ExitCode } from '@bicorn/protocol';
import { findInterpreter, HookProcess, type HookCall, type HookContext, type HookOutcome, type MasterHook, type ServerView } from '@bicorn/python/setup';
import type { Logger } from '@bicorn/runtime';
import type { ArbiterHooks, HookWorker } from './arbiter.js';

export interface ServerHooks extends ArbiterHooks<Config> {
  /** Throws HOOK_FAILED when on_starting raised. */
  onStarting(): Promise<void>;
  onExit(): Promise<void>;
  /** Where `server` comes from, and how a hook that stops bicorn stops it: the arbiter's. */
  attach(view: () => ServerView, halt: (error: BicornError) => void): void;
  close(): Promise<void>;
}

/** Undefined without a gunicorn config; throws with the file's traceback when it cannot be run. */
export async function startServerHooks(config: Config, log: Logger, cwd: string): Promise<ServerHooks | undefined> {
  const file = config.gunicorn_config;
  if (file === null) return undefined;
  const hookProcess = await HookProcess.start({
    interpreter: findInterpreter(config.python, process.env),
    config: file,
    context: contextOf(config, file),
    cwd,
    env: process.env,
    timeoutMs: config.hook_timeout * 1000,
    log,
  });
  let view: () => ServerView = () => ({ numWorkers: config.workers, workers: [] });
  let halt: (error: BicornError) => void = () => undefined;
  const run = (hook: MasterHook, extra: Omit<HookCall, 'server'> = {}): Promise<HookOutcome> =>
    hookProcess.call(hook, { server: view(), ...extra }).then((outcome) => {
      report(hook, file, outcome, log, config.hook_timeout);
      return outcome;
    });
  const stopping = (hook: MasterHook) => (outcome: HookOutcome): void => {
    if (outcome.kind === 'raised') halt(new BicornError('HOOK_FAILED', { hook, file, traceback: outcome.traceback, exitCode: ExitCode.RuntimeFailure }));
  };
  return {
    async onStarting() {
      void run('nworkers_changed', { args: [config.workers, null] });
      const outcome = await run('on_starting');
      if (outcome.kind === 'raised') throw new BicornError('HOOK_FAILED', { hook: 'on_starting', file, traceback: outcome.traceback, exitCode: ExitCode.RuntimeFailure });
    },
    whenReady() {
      void run('when_ready').then(stopping('when_ready'));
    },
    onReload(reloaded) {
      if (reloaded.gunicorn_config !== null) hookProcess.restart(contextOf(reloaded, reloaded.gunicorn_config));
      void run('on_reload');
    },
    preFork(worker: HookWorker) {
      void run('pre_fork', { worker });
    },
    childExit(worker: HookWorker) {
      void run('child_exit', { worker });
    },
    nworkersChanged(workers, previous) {
      void run('nworkers_changed', { args: [workers, previous] });
    },
    async onExit() {
      await run('on_exit');
    },
    attach(from, stop) {
      view = from;
      halt = stop;
    },
    close: () => hookProcess.close(),
  };
}

function contextOf(config: Config, file: string): HookContext {
  return { file, masterPid: process.pid, age: 0, numWorkers: config.workers, procName: config.proc_name, cfg: gunicornView(config) };
}

function report(hook: MasterHook, file: string, outcome: HookOutcome, log: Logger, timeoutS: number): void {
  switch (outcome.kind) {
    case 'ran':
      return;
    case 'raised':
      log.error({ hook, file, traceback: outcome.traceback.trimEnd() }, `the ${hook} hook raised`);
      return;
    case 'timed-out':
      log.error({ hook, file, timeoutS }, `the ${hook} hook ran past hook_timeout; its process was killed, and starts again for the next hook`);
      return;
    case 'died':
      log.error({ hook, file, reason: outcome.reason }, `the hook process ended during the ${hook} hook`);
      return;
  }
}

// The master's entry: bind the listeners, start the arbiter and its workers, keep the pid file
// and the --reload watcher, and resolve with the exit code once everything has stopped.
// Library code: it throws, never exits.
import type { Config, SettingKey } from '@bicorn/config';
import { ExitCode } from '@bicorn/protocol';
import { checkLogFile, type Logger } from '@bicorn/runtime';
import { Arbiter, type ArbiterEvent } from './arbiter.js';
import { clusterHost } from './cluster-host.js';
import { Dispatcher } from './dispatch.js';
import { bindListeners, closeListeners, type Listener } from './listeners.js';
import { checkPidFile, removePidFile, writePidFile } from './pid-file.js';
import { serveHealth, type HealthServer } from './health.js';
import { forwardSignals } from './signals.js';
import { startWatcher, type Watcher } from './watcher.js';

export interface MasterOptions {
  readonly config: Config;
  /** Path of the worker's entry module, forked by node:cluster. */
  readonly workerEntry: string;
  readonly log: Logger;
  /** Reads the configuration again for a reload (SIGHUP, --reload); default: the same config. */
  readonly reloadConfig?: () => Promise<Config>;
  /** The config file in use, which --reload watches too. */
  readonly configFile?: string | undefined;
  /** Reopens the master's own log file (SIGUSR1). */
  readonly reopenLogs?: () => void;
  readonly cwd?: string;
}

/** Settings the master applied at start; a reload cannot change them. */
const RESTART_ONLY = ['bind', 'backlog', 'pid', 'health_bind', 'reload', 'reload_dirs', 'reload_include', 'reload_exclude', 'user', 'group', 'umask', 'error_log', 'log_format', 'metrics_bind'] as const satisfies readonly SettingKey[];

/** Runs until stopped; resolves with ExitCode.Ok, or rejects with the BicornError that stopped it. */
export async function runMaster(options: MasterOptions): Promise<ExitCode> {
  const { config, log } = options;
  // Workers open the access log; a path they cannot open is caught here, before any binds.
  checkLogFile(config.access_log, 'access_log');
  if (config.pid !== null) checkPidFile(config.pid);
  const dispatcher = new Dispatcher();
  const listeners = await bindListeners(config.bind, config.backlog, {
    connection: (listener, socket) => {
      dispatcher.dispatch(listener, socket);
    },
    error: (address, error) => {
      log.error({ address, err: error }, 'listener error');
    },
  });
  let arbiter: Arbiter<Config> | undefined;
  let watcher: Watcher | undefined;
  let health: HealthServer | undefined;
  const removeSignalHandlers = forwardSignals((command) => arbiter?.enqueue(command));
  try {
    if (config.health_bind !== null) {
      health = await serveHealth(config.health_bind, () => arbiter?.readiness ?? 'starting');
      log.info({ address: health.address }, 'health endpoints listening');
    }
    arbiter = new Arbiter<Config>({
      config,
      host: clusterHost(options.workerEntry, (command) => arbiter?.enqueue(command)),
      dispatcher,
      log,
      loadConfig: async () => keepRestartOnly(config, await (options.reloadConfig ?? (() => Promise.resolve(config)))(), log),
      stopAccepting: () => {
        closeListeners(listeners);
      },
      reopenLogs: () => options.reopenLogs?.(),
      notify: (event) => {
        onArbiterEvent(event, config, listeners, log);
      },
    });
    log.info({ workers: config.workers, app: config.app }, 'starting');
    arbiter.start();
    if (config.reload) {
      const running = arbiter;
      watcher = await startWatcher({
        config,
        cwd: options.cwd ?? process.cwd(),
        configFile: options.configFile,
        log,
        onChange: (reason) => {
          running.enqueue({ type: 'reload', reason });
        },
      });
    }
    const outcome = await arbiter.done;
    if ('error' in outcome) throw outcome.error;
    log.info('stopped');
    return ExitCode.Ok;
  } finally {
    removeSignalHandlers();
    closeListeners(listeners);
    health?.close();
    await watcher?.close();
    if (config.pid !== null) removePidFile(config.pid);
  }
}

function onArbiterEvent(event: ArbiterEvent, config: Config, listeners: readonly Listener[], log: Logger): void {
  switch (event.type) {
    case 'ready':
      if (config.pid !== null) writePidFile(config.pid);
      log.info({ addresses: listeners.map((l) => l.address), workers: event.workers }, 'listening');
      return;
    case 'reloading':
    case 'reloaded':
    case 'stopping':
      return;
  }
}

/** The reloaded config, with the settings only a restart changes kept as they were. */
function keepRestartOnly(running: Config, fresh: Config, log: Logger): Config {
  const kept: Partial<Record<SettingKey, unknown>> = {};
  for (const key of RESTART_ONLY) {
    if (JSON.stringify(fresh[key]) !== JSON.stringify(running[key])) {
      log.warn({ setting: key }, 'this setting changed, but only a restart applies it; keeping the running value');
    }
    kept[key] = running[key];
  }
  return Object.freeze({ ...fresh, ...kept }) as Config;
}

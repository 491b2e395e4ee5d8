// The master's entry: bind the listeners, start the arbiter and its workers, keep the pid file,
// sd_notify, the control socket, the metrics, StatsD and the --reload watcher, and resolve with
// the exit code once everything has stopped. Library code: it throws, never exits.
import { appKind, minimumVersion, readMachineLimits, type Config, type SettingKey } from '@bicorn/config';
import { BicornError, ExitCode } from '@bicorn/protocol';
import { resolve } from 'node:path';
import { checkLogFile, type Logger, type StatsdClient } from '@bicorn/runtime';
import { releaseYoungGeneration } from '@bicorn/runtime/boot-heap';
import { currentUid, resolveOwner, type Identity } from './accounts.js';
import { Arbiter, type ArbiterEvent } from './arbiter.js';
import { clusterHost } from './cluster-host.js';
import { controlHandler } from './control-commands.js';
import { controlSocketPath } from './control-path.js';
import { serveControl, type ControlServer } from './control-server.js';
import { Dispatcher } from './dispatch.js';
import { bindListeners, closeListeners, planListeners, type Listener } from './listeners.js';
import { checkWorkerCount, workerCost } from './worker-count.js';
import { watchDescriptors } from './descriptor-watch.js';
import { checkPidFile, removePidFile, writePidFile } from './pid-file.js';
import { handOverLogFiles, workerIdentity } from './privileges.js';
import type { EndpointServer } from './endpoints.js';
import { serveHealth } from './health.js';
import type { MasterMetrics } from './metrics.js';
import { startServerHooks, type ServerHooks } from './server-hooks.js';
import { startServiceNotifier } from './service-notifier.js';
import { forwardSignals } from './signals.js';
import { takeActivatedSockets } from './socket-activation.js';
import { readTlsFiles, type Served, type TlsFiles } from './tls-files.js';
import { statusReport } from './status-report.js';
import { startWatcher, type Watcher } from './watcher.js';
import { WorkerReports } from './worker-reports.js';

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
  /** bicorn's version, for `bicorn status`. */
  readonly version: string;
  /** Where $XDG_RUNTIME_DIR is read, for the control socket's default place; default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the master sends gunicorn's StatsD gauge of workers (statsd_host). */
  readonly statsd?: StatsdClient | undefined;
  /** Called once the first generation serves and the pid file is written (--daemon's readiness). */
  readonly onReady?: () => void;
}

/** Settings the master applied at start; a reload cannot change them. */
const RESTART_ONLY = ['bind', 'backlog', 'socket_mode', 'socket_owner', 'pid', 'health_bind', 'reload', 'reload_dirs', 'reload_include', 'reload_exclude', 'reload_extra_files', 'initgroups', 'user', 'group', 'umask', 'error_log', 'access_log', 'log_format', 'log_json_style', 'use_colors', 'metrics_bind', 'control_socket', 'control_socket_mode', 'no_control_socket', 'timeout', 'daemon', 'hook_timeout', 'statsd_host', 'statsd_prefix', 'dogstatsd_tags'] as const satisfies readonly SettingKey[];

const STATSD_EVERY_MS = 1_000;

/** Runs until stopped; resolves with ExitCode.Ok, or rejects with the BicornError that stopped it. */
export async function runMaster(options: MasterOptions): Promise<ExitCode> {
  if (options.config.proc_name !== null) process.title = `bicorn: master [${options.config.proc_name}]`;
  const hooks = await startServerHooks(options.config, options.log, options.cwd ?? process.cwd());
  if (hooks === undefined) return serve(options, undefined);
  try {
    await hooks.onStarting();
    try {
      return await serve(options, hooks);
    } finally {
      await hooks.onExit();
    }
  } finally {
    await hooks.close();
  }
}

async function serve(options: MasterOptions, hooks: ServerHooks | undefined): Promise<ExitCode> {
  const { config, log } = options;
  const startedAt = Date.now();
  // Read once, then gone from the environment that workers and the app inherit.
  const activated = takeActivatedSockets();
  if (config.umask !== null) process.umask(config.umask);
  const identity = workerIdentity(config, log);
  checkMachine(config, identity, log);
  // Workers open the access log; a path they cannot open is caught here, before any binds.
  const accessLogDir = checkLogFile(config.access_log, 'access_log');
  const logFiles = [config.error_log, config.access_log];
  handOverLogFiles(logFiles, identity, config.access_log === null ? [] : [{ file: resolve(config.access_log), createdDir: accessLogDir === undefined ? undefined : resolve(accessLogDir) }]);
  if (config.pid !== null) checkPidFile(config.pid);
  const cwd = options.cwd ?? process.cwd();
  // Before anything is bound: a certificate that cannot serve stops the start (exit 2).
  const tlsFiles = readTlsFiles(config, cwd);
  if (config.ssl_version !== null) log.warn({ setting: 'ssl_version', minVersion: minimumVersion(config) }, 'ssl_version is deprecated: it sets the minimum TLS version; use tls_min_version');
  const dispatcher = new Dispatcher();
  const { planned, replaced } = planListeners(config.bind, activated);
  if (replaced) log.info({ sockets: activated.map((s) => s.name) }, 'serving the sockets systemd passed (socket activation) instead of bind');
  const listeners = await bindListeners(planned, { backlog: config.backlog, socketMode: config.socket_mode, socketOwner: socketOwner(config, identity), activated }, {
    connection: (listener, socket) => {
      dispatcher.dispatch(listener, socket);
    },
    error: listenerErrorLog(log),
  });
  // unix: binds serve plain HTTP, for a proxy on the same machine; every TCP bind serves TLS.
  const tlsListeners = listeners.filter((l) => !l.address.startsWith('unix:')).map((l) => l.index);
  const withTls = (files: TlsFiles | null, settings: Config): Served => Object.freeze({ ...settings, tls: files === null ? null : { ...files, listeners: tlsListeners } });
  let servedTls = tlsFiles;
  /** The files read again for a reload; when they cannot serve, the ones in use are kept. */
  const reloadTls = (fresh: Config): Served => {
    try {
      servedTls = readTlsFiles(fresh, cwd);
    } catch (error) {
      log.error({ reason: (error as Error).message }, 'reload: the TLS files cannot be used; serving on with the certificate in use');
    }
    return withTls(servedTls, fresh);
  };
  const notifier = await startServiceNotifier(log, config.workers);
  const descriptors = watchDescriptors(log);
  let arbiter: Arbiter<Served> | undefined;
  let watcher: Watcher | undefined;
  let health: EndpointServer | undefined;
  let metricsServer: EndpointServer | undefined;
  let metrics: MasterMetrics | undefined;
  let control: ControlServer | undefined;
  const reports = new WorkerReports();
  const eventListeners = new Set<(event: ArbiterEvent) => void>();
  let statsdTimer: NodeJS.Timeout | undefined;
  const removeSignalHandlers = forwardSignals((command) => arbiter?.enqueue(command));
  try {
    if (config.health_bind !== null) {
      health = await serveHealth(config.health_bind, () => arbiter?.readiness ?? 'starting');
      log.info({ address: health.address }, 'health endpoints listening');
    }
    arbiter = new Arbiter<Served>({
      config: withTls(tlsFiles, config),
      host: clusterHost(
        options.workerEntry,
        {
          enqueue: (command) => arbiter?.enqueue(command),
          onStats: (workerId, stats) => {
            reports.onStats(workerId, stats);
            metrics?.onStats(workerId, stats);
          },
        },
        {
        identity,
          initgroups: config.initgroups,
          hiddenFds: listeners.flatMap((l) => (l.inheritedFd === undefined ? [] : [l.inheritedFd])),
        },
      ),
      dispatcher,
      log,
      loadConfig: async () => reloadTls(keepRestartOnly(config, await (options.reloadConfig ?? (() => Promise.resolve(config)))(), log)),
      stopAccepting: () => {
        closeListeners(listeners);
      },
      reopenLogs: () => {
        options.reopenLogs?.();
        // Files reopened as root (and an access log logrotate moved away) go back to the workers' user.
        try {
          checkLogFile(config.access_log, 'access_log');
          handOverLogFiles(logFiles, identity);
        } catch (error) {
          log.error({ reason: (error as Error).message }, 'cannot prepare the reopened log files for the workers');
        }
      },
      notify: (event) => {
        onArbiterEvent(event, config, listeners, log);
        notifier.onEvent(event);
        if (event.type === 'ready') {
          releaseYoungGeneration();
          options.onReady?.();
        }
        reports.onEvent(event);
        metrics?.onEvent(event);
        for (const listener of eventListeners) listener(event);
      },
      hooks,
    });
    const running = arbiter;
    hooks?.attach(() => running.hookView(), (error) => {
      running.enqueue({ type: 'halt', error });
    });
    if (config.metrics_bind !== null) {
      // Loaded only when asked for: prom-client and what it brings hold about 1.7 MiB of heap.
      const { MasterMetrics, serveMetrics } = await import('./metrics.js');
      metrics = new MasterMetrics(() => running.snapshot());
      metricsServer = await serveMetrics(config.metrics_bind, metrics);
      log.info({ address: metricsServer.address }, 'metrics listening');
    }
    const facts = { version: options.version, app: config.app ?? '', startedAt, configFile: options.configFile ?? null, listeners: listeners.map((l) => l.address), metrics: metricsServer?.address ?? null };
    control = await serveControl(
      controlSocketPath(config, options.env ?? process.env),
      config.control_socket_mode,
      controlHandler({
        enqueue: (command) => {
          running.enqueue(command);
        },
        snapshot: () => running.snapshot(),
        status: () => statusReport(running.snapshot(), reports, facts, Date.now()),
        subscribe: (listener) => {
          eventListeners.add(listener);
          return () => eventListeners.delete(listener);
        },
      }),
      log,
    );
    log.info({ workers: config.workers, app: config.app }, 'starting');
    arbiter.start();
    const { statsd } = options;
    if (statsd !== undefined) {
      // gunicorn sends it on every turn of its arbiter's loop, about once a second.
      statsdTimer = setInterval(() => {
        statsd.gauge('gunicorn.workers', running.snapshot().workers.length);
      }, STATSD_EVERY_MS).unref();
    }
    if (config.reload) {
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
    clearInterval(statsdTimer);
    notifier.close();
    descriptors.close();
    closeListeners(listeners);
    health?.close();
    metricsServer?.close();
    control?.close();
    await watcher?.close();
    if (config.pid !== null) removePidFile(config.pid);
  }
}

function onArbiterEvent(event: ArbiterEvent, config: Config, listeners: readonly Listener[], log: Logger): void {
  switch (event.type) {
    case 'ready':
      if (config.pid !== null) writePid(config.pid, log);
      log.info({ addresses: listeners.map((l) => l.address), workers: event.workers }, 'listening');
      return;
    case 'reloading':
    case 'reloaded':
    case 'stopping':
    case 'worker-ready':
    case 'worker-exited':
    case 'restart':
    case 'app-died':
      return;
  }
}

/**
 * A failed accept comes back with each connection attempt, and the listener keeps listening:
 * logged at most once a second, with how many more. (EMFILE never comes here: see
 * descriptor-watch.ts.)
 */
function listenerErrorLog(log: Logger): (address: string, error: NodeJS.ErrnoException) => void {
  let lastAt = 0;
  let more = 0;
  return (address, error) => {
    const now = Date.now();
    if (now - lastAt < 1_000) {
      more++;
      return;
    }
    log.error({ address, code: error.code, reason: error.message, more }, 'listener error; it keeps listening');
    lastAt = now;
    more = 0;
  };
}

/** Refuses a worker count the machine cannot run (too many tasks, too little memory); warns of a large one. */
function checkMachine(config: Config, identity: Identity | undefined, log: Logger): void {
  const python = config.app !== null && appKind(config.app) === 'python' ? { threads: config.threads } : undefined;
  const limits = readMachineLimits('/', identity?.uid ?? currentUid());
  const { refuse, warnings } = checkWorkerCount(config.workers, workerCost(python), limits);
  if (refuse !== undefined) throw new BicornError('WORKERS_BEYOND_MACHINE', { workers: config.workers, reason: refuse });
  for (const warning of warnings) log.warn({ workers: config.workers }, `many workers: ${warning}`);
}

/** The workers serve whether or not the file can be written: a failure is logged, not thrown. */
function writePid(path: string, log: Logger): void {
  try {
    writePidFile(path);
  } catch (error) {
    log.error({ file: path, reason: (error as Error).message }, 'cannot write the pid file; serving on without it');
  }
}

/** socket_owner, else the workers' user, else whoever bicorn runs as. */
function socketOwner(config: Config, identity: Identity | undefined): Identity | undefined {
  return config.socket_owner === null ? identity : resolveOwner(config.socket_owner);
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

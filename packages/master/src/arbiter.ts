// The arbiter: one queue of commands and one loop that acts on them, so that no two
// decisions about workers ever interleave (two reloads never overlap). Runs in the master;
// knows processes only through a WorkerHost.
import type { Config } from '@bicorn/config';
import type { Logger } from '@bicorn/runtime';
import { assertNever, BicornError, ExitCode, isBicornError, type RecycleReason, type StopMode, type WorkerMessage } from '@bicorn/protocol';
import type { Command, MasterSignal, StopSignal } from './commands.js';
import type { Dispatcher } from './dispatch.js';
import { RestartPolicy } from './restart-policy.js';
import type { WorkerHost } from './worker-host.js';
import { WorkerTable, type WorkerEntry } from './worker-table.js';

export type ArbiterConfig = Pick<Config, 'workers' | 'timeout' | 'graceful_timeout' | 'shutdown_delay' | 'restart_delay' | 'max_restarts' | 'restart_window'>;

/** What the arbiter tells the rest of the master (logs aside): for sd_notify and the pid file. */
export type ArbiterEvent =
  | { readonly type: 'ready'; readonly workers: number }
  | { readonly type: 'reloading' }
  /** A reload is over: `ok` when the new generation serves, else the old one still does. */
  | { readonly type: 'reloaded'; readonly ok: boolean; readonly generation: number; readonly workers: number }
  | { readonly type: 'stopping' };

export interface ArbiterOptions<C extends ArbiterConfig> {
  readonly config: C;
  readonly host: WorkerHost<C>;
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  /** Reads the config again for a reload; rejects with the reason it is invalid. */
  readonly loadConfig: () => Promise<C>;
  /** Closes the listeners; called once when the graceful stop begins. */
  readonly stopAccepting: () => void;
  /** Reopens the master's own log files (SIGUSR1). */
  readonly reopenLogs: () => void;
  readonly notify: (event: ArbiterEvent) => void;
  /** A gunicorn config's master-side hooks, when it has any. */
  readonly hooks?: ArbiterHooks<C> | undefined;
}

/**
 * A worker as a gunicorn hook sees it: `age` is its worker id; `pid` its Python process's, else
 * its own (undefined before it is forked).
 */
export interface HookWorker {
  readonly age: number;
  readonly pid: number | undefined;
}

/**
 * The points where a gunicorn config's master-side hooks run (server-hooks.ts). The arbiter calls
 * them and goes on: each hook runs in the hook process, in order, and never holds up the loop.
 */
export interface ArbiterHooks<C> {
  whenReady(): void;
  /** The reloaded config is read; the new generation forks next. */
  onReload(config: C): void;
  preFork(worker: HookWorker): void;
  childExit(worker: HookWorker): void;
  nworkersChanged(workers: number, previous: number): void;
}

/** What a load balancer should see: traffic only while ready. */
export type Readiness = 'starting' | 'ready' | 'draining';

export type Outcome = { readonly exitCode: typeof ExitCode.Ok } | { readonly error: BicornError };

type Phase<C> =
  | { readonly kind: 'starting' }
  | { readonly kind: 'running' }
  /** Forking generation `#generation + 1`; `config` is set once its workers are forked. */
  | { readonly kind: 'reloading'; readonly config: C | undefined }
  /** Serving on for shutdown_delay; the stop that follows ends with ExitCode.Ok. */
  | { readonly kind: 'delaying' }
  | { readonly kind: 'stopping'; readonly mode: StopMode; readonly outcome: Outcome };

/** How long a fast stop waits for a worker before killing it. */
const FAST_STOP_MS = 2_000;
/** Slack past graceful_timeout for a worker to finish its own deadline and exit. */
const DEADLINE_SLACK_MS = 1_000;
/** After SIGABRT, how long a hung worker gets to die before SIGKILL. */
const ABORT_GRACE_MS = 2_000;

export class Arbiter<C extends ArbiterConfig> {
  readonly done: Promise<Outcome>;
  readonly #options: ArbiterOptions<C>;
  readonly #workers = new WorkerTable();
  readonly #queue: Command<C>[] = [];
  readonly #restarts = new RestartPolicy();
  #config: C;
  /** The heartbeat timeout, fixed at start: the heartbeat timer is armed once (a restart applies a new one). */
  readonly #timeoutMs: number;
  #target: number;
  #generation = 1;
  #phase: Phase<C> = { kind: 'starting' };
  #reloadPending: string | undefined;
  #nextWorkerId = 1;
  #pingSeq = 0;
  #draining = false;
  #respawnTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #delayTimer: NodeJS.Timeout | undefined;
  #finish: (outcome: Outcome) => void = () => undefined;

  constructor(options: ArbiterOptions<C>) {
    this.#options = options;
    this.#config = options.config;
    this.#timeoutMs = options.config.timeout * 1000;
    this.#target = options.config.workers;
    this.done = new Promise((resolve) => {
      this.#finish = resolve;
    });
  }

  start(): void {
    this.#spawnMissing();
    if (this.#timeoutMs > 0) {
      // Several pings per timeout, so that one late pong is never mistaken for a hang.
      const everyMs = Math.min(Math.max(this.#timeoutMs / 4, 50), 2_000);
      this.#heartbeatTimer = setInterval(() => {
        this.enqueue({ type: 'heartbeat-due' });
      }, everyMs);
    }
  }

  enqueue(command: Command<C>): void {
    this.#queue.push(command);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) this.#handle(next);
    } finally {
      this.#draining = false;
    }
  }

  #handle(command: Command<C>): void {
    switch (command.type) {
      case 'signal':
        this.#onSignal(command.signal);
        return;
      case 'reload':
        this.#requestReload(command.reason);
        return;
      case 'worker-message':
        this.#onWorkerMessage(command.workerId, command.message);
        return;
      case 'worker-invalid-message':
        this.#options.log.error({ workerId: command.workerId, reason: command.reason }, 'invalid message from worker; killing it');
        this.#workers.get(command.workerId)?.handle.kill('SIGKILL');
        return;
      case 'worker-exit':
        this.#onWorkerExit(command.workerId, command.code, command.signal);
        return;
      case 'config-loaded':
        this.#onConfigLoaded(command.config);
        return;
      case 'config-failed':
        this.#onConfigFailed(command.error);
        return;
      case 'respawn-due':
        this.#respawnTimer = undefined;
        this.#spawnMissing();
        return;
      case 'heartbeat-due':
        this.#checkHeartbeats();
        return;
      case 'shutdown-delay-over':
        this.#delayTimer = undefined;
        if (this.#phase.kind === 'delaying') this.#stop('graceful', { exitCode: ExitCode.Ok });
        return;
      case 'halt':
        this.#halt(command.error);
        return;
      case 'stop-overdue':
        this.#onStopOverdue(command.workerId);
        return;
      default:
        assertNever(command, 'command');
    }
  }

  #onSignal(signal: MasterSignal): void {
    switch (signal) {
      case 'SIGHUP':
        this.#requestReload('SIGHUP');
        return;
      case 'SIGTTIN':
        this.#scale(1);
        return;
      case 'SIGTTOU':
        this.#scale(-1);
        return;
      case 'SIGUSR1':
        this.#options.log.info('reopening log files');
        this.#options.reopenLogs();
        for (const entry of this.#workers.all()) entry.handle.send({ type: 'reopen-logs' });
        return;
      case 'SIGTERM':
      case 'SIGINT':
      case 'SIGQUIT':
        this.#onStopSignal(signal);
        return;
      default:
        assertNever(signal, 'signal');
    }
  }

  #onStopSignal(signal: StopSignal): void {
    const { log } = this.#options;
    const phase = this.#phase;
    switch (phase.kind) {
      case 'starting':
      case 'running':
      case 'reloading': {
        // Only SIGTERM, what orchestrators send, waits for shutdown_delay; SIGINT is a person.
        const delayMs = this.#config.shutdown_delay * 1000;
        if (signal !== 'SIGTERM' || delayMs === 0) {
          const mode = signal === 'SIGQUIT' ? 'fast' : 'graceful';
          log.info({ signal, mode }, 'stopping');
          this.#stop(mode, { exitCode: ExitCode.Ok });
          return;
        }
        // Readiness says "draining" from now on, while the workers go on serving.
        log.info({ signal, shutdownDelayS: this.#config.shutdown_delay }, 'draining: serving on for shutdown_delay, then stopping');
        this.#leaveService({ kind: 'delaying' });
        this.#delayTimer = setTimeout(() => {
          this.enqueue({ type: 'shutdown-delay-over' });
        }, delayMs);
        return;
      }
      case 'delaying':
        if (signal === 'SIGTERM') log.info({ signal }, 'already stopping');
        else this.#stop('fast', { exitCode: ExitCode.Ok });
        return;
      case 'stopping':
        if (signal !== 'SIGTERM' && phase.mode === 'graceful') {
          log.warn({ signal }, 'second stop signal: stopping at once');
          this.#stop('fast', phase.outcome);
        } else {
          log.info({ signal }, 'already stopping');
        }
        return;
      default:
        assertNever(phase, 'phase');
    }
  }

  /** The live workers and how many there should be, as gunicorn's hooks read them (server.WORKERS, server.num_workers). */
  hookView(): { readonly workers: readonly HookWorker[]; readonly numWorkers: number } {
    return { workers: [...this.#workers.all()].map(hookWorker), numWorkers: this.#target };
  }

  /** The readiness a load balancer should see. */
  get readiness(): Readiness {
    switch (this.#phase.kind) {
      case 'starting':
        return 'starting';
      case 'running':
      case 'reloading':
        return 'ready';
      case 'delaying':
      case 'stopping':
        return 'draining';
      default:
        return assertNever(this.#phase, 'phase');
    }
  }

  #onWorkerMessage(workerId: number, message: WorkerMessage): void {
    const entry = this.#workers.get(workerId);
    if (entry === undefined) return;
    switch (message.type) {
      case 'hello':
        return; // answered with the boot message by the host
      case 'ready':
        this.#onWorkerReady(entry, message.interface, message.loadError);
        return;
      case 'app-process':
        entry.appPid = message.pid;
        return;
      case 'boot-failed':
        entry.state = { kind: 'boot-failed', exitCode: message.exitCode, message: message.message };
        return;
      case 'draining':
        this.#options.log.debug({ workerId, inFlight: message.inFlight }, 'worker draining');
        return;
      case 'pong':
        entry.lastPong = Date.now();
        return;
      case 'recycle':
        this.#onRecycle(entry, message.reason, message.detail);
        return;
      default:
        assertNever(message, 'worker message');
    }
  }

  #onWorkerReady(entry: WorkerEntry, appInterface: string, loadError: string | null): void {
    const { log, dispatcher } = this.#options;
    const workerId = entry.handle.id;
    const phase = this.#phase;
    if (phase.kind === 'stopping' || entry.state.kind === 'stopping') {
      // Told to stop while it booted (or ended with an aborted reload, whose generation number
      // the next reload takes again): it stays on its way out.
      this.#stopWorker(entry, entry.state.kind === 'stopping' ? entry.state.reason : 'shutdown', phase.kind === 'stopping' ? phase.mode : 'graceful');
      return;
    }
    entry.state = { kind: 'ready' };
    entry.lastPong = Date.now();
    if (loadError === null) log.info({ workerId, workerPid: entry.handle.pid, interface: appInterface, generation: entry.generation }, 'worker ready');
    else log.warn({ workerId, workerPid: entry.handle.pid, generation: entry.generation }, 'worker ready, but the app failed to load: it answers 500 with the error until a file changes');
    if (phase.kind === 'reloading' && phase.config !== undefined && entry.generation === this.#generation + 1) {
      if (this.#workers.allReady(entry.generation)) this.#switchGeneration(phase.config);
      return;
    }
    if (entry.generation !== this.#generation) {
      this.#stopWorker(entry, 'superseded by a reload');
      return;
    }
    dispatcher.addReady(entry.handle);
    // A recycled worker leaves once a replacement is serving.
    const retiring = this.#workers.firstRetiring(this.#generation);
    if (retiring !== undefined) this.#stopWorker(retiring, `recycled (${retiring.state.reason})`);
    if (phase.kind === 'starting' && this.#workers.allReady(this.#generation)) {
      this.#phase = { kind: 'running' };
      this.#options.notify({ type: 'ready', workers: this.#target });
      this.#options.hooks?.whenReady();
      this.#runPendingReload();
    }
  }

  #onRecycle(entry: WorkerEntry, reason: RecycleReason, detail: string): void {
    if (entry.state.kind !== 'ready' || this.#phase.kind === 'stopping') return;
    this.#options.log.info({ workerId: entry.handle.id, reason, detail }, 'recycling worker: starting its replacement');
    entry.state = { kind: 'retiring', reason };
    // A worker whose app hung on a request gets no new connections while its replacement boots.
    if (reason === 'request-timeout') this.#options.dispatcher.remove(entry.handle.id);
    this.#spawnMissing();
  }

  #onWorkerExit(workerId: number, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.#workers.remove(workerId);
    if (entry === undefined) return;
    this.#options.dispatcher.remove(workerId);
    this.#options.hooks?.childExit(hookWorker(entry));
    const { log } = this.#options;
    const phase = this.#phase;
    if (phase.kind === 'stopping' || entry.state.kind === 'stopping') {
      const reason = entry.state.kind === 'stopping' ? entry.state.reason : 'shutdown';
      log.info({ workerId, reason, code, signal }, 'worker stopped');
      if (phase.kind === 'stopping' && this.#workers.size === 0) this.#complete(phase.outcome);
      return;
    }
    const state = entry.state;
    switch (state.kind) {
      case 'boot-failed':
      case 'booting': {
        const message = state.kind === 'boot-failed' ? state.message : `worker ${String(workerId)} ${describeExit(code, signal)} before it was ready; see the log above`;
        const exitCode = state.kind === 'boot-failed' ? state.exitCode : ExitCode.WorkerBoot;
        if (phase.kind === 'reloading' && entry.generation === this.#generation + 1) this.#abortReload(message);
        else if (phase.kind === 'starting') this.#halt(new BicornError('WORKER_BOOT_FAILED', { workerId, exitCode, message }));
        else this.#onFailure(workerId, code, signal, `could not boot: ${message}`);
        return;
      }
      case 'ready':
      case 'retiring':
        this.#onFailure(workerId, code, signal, describeExit(code, signal));
        return;
      case 'hung':
        this.#onFailure(workerId, code, signal, `killed: it missed its heartbeats for ${String(this.#config.timeout)} s`);
        return;
      default:
        assertNever(state, 'worker state');
    }
  }

  #onFailure(workerId: number, code: number | null, signal: NodeJS.Signals | null, cause: string): void {
    // Any exit the master did not ask for counts, a clean one too: a worker that keeps
    // exiting 0 on its own is as broken as one that crashes.
    const { log } = this.#options;
    const decision = this.#restarts.fail(Date.now(), this.#config);
    const hint = signal === 'SIGKILL' ? 'killed: out of memory?' : undefined;
    log.error({ workerId, code, signal, cause, hint, failures: decision.failures }, 'worker died');
    if (decision.kind === 'crash-loop') {
      this.#halt(new BicornError('CRASH_LOOP', { failures: decision.failures, windowSeconds: this.#config.restart_window }));
      return;
    }
    log.info({ delayMs: decision.delayMs }, 'replacing worker');
    this.#respawnTimer ??= setTimeout(() => {
      this.enqueue({ type: 'respawn-due' });
    }, decision.delayMs);
  }

  #checkHeartbeats(): void {
    const now = Date.now();
    const seq = ++this.#pingSeq;
    for (const entry of this.#workers.all()) {
      const { state } = entry;
      if (state.kind !== 'ready' && state.kind !== 'retiring') continue;
      const silentMs = now - entry.lastPong;
      if (silentMs > this.#timeoutMs) {
        this.#options.log.error({ workerId: entry.handle.id, workerPid: entry.handle.pid, silentMs }, 'worker stopped answering heartbeats (its event loop is blocked); killing it with SIGABRT');
        this.#options.dispatcher.remove(entry.handle.id);
        entry.state = { kind: 'hung' };
        entry.handle.kill('SIGABRT');
        // The stop timer escalates: SIGKILL if SIGABRT has not ended it within the grace.
        this.#armStopTimer(entry, ABORT_GRACE_MS);
        continue;
      }
      entry.handle.send({ type: 'ping', seq });
    }
  }

  #requestReload(reason: string): void {
    const { log } = this.#options;
    switch (this.#phase.kind) {
      case 'running':
        this.#beginReload(reason);
        return;
      case 'starting':
      case 'reloading':
        // Handled once the current step is over; HUPs meanwhile make one more reload, not many.
        log.info({ reason }, 'reload queued until the workers now starting are ready');
        this.#reloadPending = reason;
        return;
      case 'delaying':
      case 'stopping':
        log.info({ reason }, 'reload ignored: stopping');
        return;
      default:
        assertNever(this.#phase, 'phase');
    }
  }

  #beginReload(reason: string): void {
    this.#options.log.info({ reason }, 'reloading: reading the configuration');
    this.#phase = { kind: 'reloading', config: undefined };
    this.#options.notify({ type: 'reloading' });
    this.#options.loadConfig().then(
      (config) => {
        this.enqueue({ type: 'config-loaded', config });
      },
      (error: unknown) => {
        this.enqueue({ type: 'config-failed', error });
      },
    );
  }

  #onConfigLoaded(config: C): void {
    if (this.#phase.kind !== 'reloading') return; // stopped meanwhile
    // A worker count changed in the config wins over TTIN/TTOU; else the scaled count stays.
    if (config.workers !== this.#config.workers) {
      this.#options.hooks?.nworkersChanged(config.workers, this.#target);
      this.#target = config.workers;
    }
    const generation = this.#generation + 1;
    this.#phase = { kind: 'reloading', config };
    this.#options.hooks?.onReload(config);
    this.#options.log.info({ generation, workers: this.#target }, 'reloading: starting the new workers');
    for (let i = 0; i < this.#target; i++) this.#fork(generation, config);
  }

  #onConfigFailed(error: unknown): void {
    if (this.#phase.kind !== 'reloading') return;
    // A config problem is the person's to fix: its message, not bicorn's stack.
    const reason = isBicornError(error) ? { reason: error.message } : { err: error };
    this.#options.log.error(reason, 'reload failed: the configuration is invalid; the old workers keep serving');
    this.#endReload(false);
  }

  /** Every worker of the reload's generation is ready: it takes over with the reloaded config. */
  #switchGeneration(config: C): void {
    const generation = this.#generation + 1;
    const { dispatcher, log } = this.#options;
    for (const entry of this.#workers.all()) {
      const serving = entry.state.kind === 'ready' || entry.state.kind === 'retiring';
      if (entry.generation === generation && serving) dispatcher.addReady(entry.handle);
    }
    // The new workers take connections before the old ones stop taking them.
    for (const entry of this.#workers.all()) {
      if (entry.generation !== generation && entry.state.kind !== 'stopping') this.#stopWorker(entry, 'reload');
    }
    this.#generation = generation;
    this.#config = config;
    log.info({ generation, workers: this.#target }, 'reloaded');
    this.#endReload(true);
  }

  #abortReload(message: string): void {
    if (this.#phase.kind !== 'reloading') return;
    this.#options.log.error({ reason: message }, 'reload failed: the new workers could not start; the old workers keep serving');
    for (const entry of this.#workers.all()) {
      if (entry.generation === this.#generation + 1 && entry.state.kind !== 'stopping') {
        entry.state = { kind: 'stopping', reason: 'reload failed' };
        // A booting worker has no stop handler yet; SIGTERM ends it either way.
        entry.handle.kill('SIGTERM');
        this.#armStopTimer(entry, FAST_STOP_MS);
      }
    }
    this.#endReload(false);
  }

  #endReload(ok: boolean): void {
    this.#phase = { kind: 'running' };
    this.#options.notify({ type: 'reloaded', ok, generation: this.#generation, workers: this.#target });
    this.#spawnMissing();
    this.#runPendingReload();
  }

  #runPendingReload(): void {
    const reason = this.#reloadPending;
    if (reason === undefined || this.#phase.kind !== 'running') return;
    this.#reloadPending = undefined;
    this.#beginReload(reason);
  }

  #scale(by: 1 | -1): void {
    if (this.#phase.kind === 'stopping' || this.#phase.kind === 'delaying') return;
    const { log } = this.#options;
    if (by < 0 && this.#target <= 1) {
      log.warn({ workers: this.#target }, 'SIGTTOU ignored: one worker is the least');
      return;
    }
    this.#target += by;
    log.info({ workers: this.#target }, by > 0 ? 'adding a worker (SIGTTIN)' : 'removing a worker (SIGTTOU)');
    this.#options.hooks?.nworkersChanged(this.#target, this.#target - by);
    if (by > 0) {
      this.#spawnMissing();
      return;
    }
    // The youngest goes first: a booting one, else the last to become ready.
    const current = this.#workers.active(this.#generation);
    const leaving = current.find((w) => w.state.kind === 'booting') ?? current.at(-1);
    if (leaving !== undefined) this.#stopWorker(leaving, 'scaled down');
  }

  #spawnMissing(): void {
    if (this.#phase.kind === 'stopping' || (this.#phase.kind === 'reloading' && this.#phase.config !== undefined)) return;
    for (let active = this.#workers.active(this.#generation).length; active < this.#target; active++) this.#fork(this.#generation, this.#config);
  }

  #fork(generation: number, config: C): void {
    const workerId = this.#nextWorkerId++;
    this.#options.hooks?.preFork({ age: workerId, pid: undefined });
    this.#workers.add(this.#options.host.fork(workerId, config), generation);
  }

  #stopWorker(entry: WorkerEntry, reason: string, mode: StopMode = 'graceful'): void {
    // A hung worker cannot read a stop message, and its SIGKILL is already due.
    if (entry.state.kind === 'hung') return;
    this.#options.dispatcher.remove(entry.handle.id);
    entry.state = { kind: 'stopping', reason };
    entry.handle.send({ type: 'stop', mode, timeoutMs: Math.round(this.#config.graceful_timeout * 1000) });
    this.#armStopTimer(entry, mode === 'fast' ? FAST_STOP_MS : this.#config.graceful_timeout * 1000 + DEADLINE_SLACK_MS);
  }

  #armStopTimer(entry: WorkerEntry, ms: number): void {
    clearTimeout(entry.stopTimer);
    const workerId = entry.handle.id;
    entry.stopTimer = setTimeout(() => {
      this.enqueue({ type: 'stop-overdue', workerId });
    }, ms);
  }

  #onStopOverdue(workerId: number): void {
    const entry = this.#workers.get(workerId);
    if (entry === undefined) return;
    const { log } = this.#options;
    if (entry.state.kind === 'hung') log.error({ workerId, workerPid: entry.handle.pid, graceMs: ABORT_GRACE_MS }, 'hung worker still alive after SIGABRT; killing it with SIGKILL');
    else log.error({ workerId, workerPid: entry.handle.pid }, 'worker still busy at the stop deadline; killing it');
    entry.handle.kill('SIGKILL');
  }

  #halt(error: BicornError): void {
    this.#options.log.debug({ code: error.code }, 'halting');
    this.#stop('fast', { error });
  }

  #stop(mode: StopMode, outcome: Outcome): void {
    const wasStopping = this.#phase.kind === 'stopping';
    this.#leaveService({ kind: 'stopping', mode, outcome });
    if (!wasStopping) {
      this.#options.stopAccepting();
      this.#options.dispatcher.dropWaiting();
    }
    clearTimeout(this.#respawnTimer);
    clearTimeout(this.#delayTimer);
    if (this.#workers.size === 0) {
      this.#complete(outcome);
      return;
    }
    for (const entry of this.#workers.all()) {
      const reason = entry.state.kind === 'stopping' ? entry.state.reason : 'shutdown';
      this.#stopWorker(entry, reason, mode);
    }
  }

  /** Enters delaying or stopping; the first step out of service tells systemd (STOPPING=1), once. */
  #leaveService(phase: Extract<Phase<C>, { kind: 'delaying' | 'stopping' }>): void {
    const serving = this.#phase.kind !== 'delaying' && this.#phase.kind !== 'stopping';
    this.#phase = phase;
    if (serving) this.#options.notify({ type: 'stopping' });
  }

  #complete(outcome: Outcome): void {
    clearTimeout(this.#respawnTimer);
    clearTimeout(this.#delayTimer);
    clearInterval(this.#heartbeatTimer);
    this.#finish(outcome);
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`;
}

function hookWorker(entry: WorkerEntry): HookWorker {
  return { age: entry.handle.id, pid: entry.appPid ?? entry.handle.pid };
}

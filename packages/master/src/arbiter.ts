// The arbiter: one queue of commands and one loop that acts on them, so that no two
// decisions about workers ever interleave (two reloads never overlap). Runs in the master;
// knows processes only through a WorkerHost.
import type { Config } from '@bicorn/config';
import type { Logger } from '@bicorn/runtime';
import { assertNever, BicornError, ExitCode, isBicornError, type RecycleReason, type StopMode } from '@bicorn/protocol';
import type { Command, MasterSignal, ReloadResult, ScaleChange, ScaleResult } from './commands.js';
import type { Dispatcher } from './dispatch.js';
import { RestartPolicy } from './restart-policy.js';
import type { WorkerHost } from './worker-host.js';
import { WorkerTable, type RestartCause, type StartReason, type WorkerEntry, type WorkerState } from './worker-table.js';

export type ArbiterConfig = Pick<Config, 'workers' | 'timeout' | 'graceful_timeout' | 'shutdown_delay' | 'restart_delay' | 'max_restarts' | 'restart_window'>;

/** What the arbiter tells the rest of the master (logs aside): for sd_notify and the pid file. */
export type ArbiterEvent =
  | { readonly type: 'ready'; readonly workers: number }
  | { readonly type: 'reloading' }
  /** A reload is over: `ok` when the new generation serves, else the old one still does. */
  | { readonly type: 'reloaded'; readonly ok: boolean; readonly generation: number; readonly workers: number }
  | { readonly type: 'stopping' }
  /** For the control socket and metrics: a worker became ready, exited, or is to be replaced. */
  | { readonly type: 'worker-ready'; readonly workerId: number }
  | { readonly type: 'worker-exited'; readonly workerId: number }
  | { readonly type: 'restart'; readonly workerId: number; readonly cause: RestartCause };

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

/** What the control socket and the metrics read of the arbiter: a copy, taken between commands. */
export interface ArbiterSnapshot {
  readonly phase: Phase<unknown>['kind'];
  readonly generation: number;
  /** The worker count the arbiter keeps. */
  readonly target: number;
  readonly workers: readonly WorkerSnapshot[];
}

export interface WorkerSnapshot {
  readonly id: number;
  readonly pid: number | undefined;
  readonly generation: number;
  readonly state: WorkerState['kind'];
  readonly forkedAt: number;
  readonly startedFor: StartReason;
}

/** Who asked for a stop (for the log), how, and whether shutdown_delay applies. */
interface StopRequest {
  readonly who: Readonly<Record<string, string>>;
  readonly mode: StopMode;
  readonly delayed: boolean;
  /** Asked again while a graceful stop is under way, it makes the stop fast. */
  readonly escalates: boolean;
}

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
  /** Who waits to hear how the running reload ends, and the queued one. */
  #reloadWaiters: ((result: ReloadResult) => void)[] = [];
  #pendingReloadWaiters: ((result: ReloadResult) => void)[] = [];
  /** Why the next workers forked are: replacements for those that died or are recycled, in order. */
  #replacing: StartReason[] = [];
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
    this.#spawnMissing('start');
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
        this.#requestReload(command.reason, command.done);
        return;
      case 'scale':
        command.done(this.#scale(command.change, command.by));
        return;
      case 'stop':
        this.#onStop({ who: { by: command.by }, mode: command.mode, delayed: false, escalates: command.mode === 'fast' });
        return;
      case 'reopen-logs':
        this.#reopenLogs(command.by);
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
        this.#spawnMissing('scale');
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
        this.#requestReload('SIGHUP', undefined);
        return;
      case 'SIGTTIN':
        this.#scale({ by: 1 }, signal);
        return;
      case 'SIGTTOU':
        this.#scale({ by: -1 }, signal);
        return;
      case 'SIGUSR1':
        this.#reopenLogs(signal);
        return;
      case 'SIGTERM':
      case 'SIGINT':
      case 'SIGQUIT':
        // Only SIGTERM, what orchestrators send, waits for shutdown_delay; SIGINT is a person.
        this.#onStop({ who: { signal }, mode: signal === 'SIGQUIT' ? 'fast' : 'graceful', delayed: signal === 'SIGTERM', escalates: signal !== 'SIGTERM' });
        return;
      default:
        assertNever(signal, 'signal');
    }
  }

  #reopenLogs(by: string): void {
    this.#options.log.info({ by }, 'reopening log files');
    this.#options.reopenLogs();
    for (const entry of this.#workers.all()) entry.handle.send({ type: 'reopen-logs' });
  }

  #onStop(request: StopRequest): void {
    const { log } = this.#options;
    const { who } = request;
    const phase = this.#phase;
    switch (phase.kind) {
      case 'starting':
      case 'running':
      case 'reloading': {
        const delayMs = this.#config.shutdown_delay * 1000;
        if (!request.delayed || delayMs === 0) {
          log.info({ ...who, mode: request.mode }, 'stopping');
          this.#stop(request.mode, { exitCode: ExitCode.Ok });
          return;
        }
        // Readiness says "draining" from now on, while the workers go on serving.
        log.info({ ...who, shutdownDelayS: this.#config.shutdown_delay }, 'draining: serving on for shutdown_delay, then stopping');
        this.#leaveService({ kind: 'delaying' });
        this.#delayTimer = setTimeout(() => {
          this.enqueue({ type: 'shutdown-delay-over' });
        }, delayMs);
        return;
      }
      case 'delaying':
        if (request.escalates) this.#stop('fast', { exitCode: ExitCode.Ok });
        else log.info(who, 'already stopping');
        return;
      case 'stopping':
        if (request.escalates && phase.mode === 'graceful') {
          log.warn(who, 'asked again to stop: stopping at once');
          this.#stop('fast', phase.outcome);
        } else {
          log.info(who, 'already stopping');
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

  snapshot(): ArbiterSnapshot {
    return {
      phase: this.#phase.kind,
      generation: this.#generation,
      target: this.#target,
      workers: [...this.#workers.all()].map((entry) => ({
        id: entry.handle.id,
        pid: entry.handle.pid,
        generation: entry.generation,
        state: entry.state.kind,
        forkedAt: entry.forkedAt,
        startedFor: entry.startedFor,
      })),
    };
  }

  #onWorkerMessage(workerId: number, message: Extract<Command, { type: 'worker-message' }>['message']): void {
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
    this.#options.notify({ type: 'worker-ready', workerId });
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
    this.#replaceLater(entry.handle.id, reason);
    // A worker whose app hung on a request gets no new connections while its replacement boots.
    if (reason === 'request-timeout') this.#options.dispatcher.remove(entry.handle.id);
    this.#spawnMissing('scale');
  }

  #onWorkerExit(workerId: number, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.#workers.remove(workerId);
    if (entry === undefined) return;
    this.#options.dispatcher.remove(workerId);
    this.#options.hooks?.childExit(hookWorker(entry));
    this.#options.notify({ type: 'worker-exited', workerId });
    const { log } = this.#options;
    const phase = this.#phase;
    const state = entry.state;
    if (phase.kind === 'stopping' || state.kind === 'stopping') {
      // A worker told to stop while it booted may still have failed to load the app: say so.
      if (state.kind === 'boot-failed') log.error({ workerId, code, signal, reason: state.message }, 'worker failed to boot');
      else log.info({ workerId, reason: state.kind === 'stopping' ? state.reason : 'shutdown', code, signal }, 'worker stopped');
      if (phase.kind === 'stopping' && this.#workers.size === 0) this.#complete(phase.outcome);
      return;
    }
    switch (state.kind) {
      case 'boot-failed':
      case 'booting': {
        const message = state.kind === 'boot-failed' ? state.message : `worker ${String(workerId)} ${describeExit(code, signal)} before it was ready; see the log above`;
        const exitCode = state.kind === 'boot-failed' ? state.exitCode : ExitCode.WorkerBoot;
        if (phase.kind === 'reloading' && entry.generation === this.#generation + 1) this.#abortReload(message);
        else if (phase.kind === 'starting') {
          log.error({ workerId, code, signal, reason: message }, 'worker failed to boot');
          this.#halt(new BicornError('WORKER_BOOT_FAILED', { workerId, exitCode, message }));
        } else this.#onFailure(workerId, code, signal, 'boot-failed', `could not boot: ${message}`);
        return;
      }
      case 'ready':
      case 'retiring':
        this.#onFailure(workerId, code, signal, signal === null ? 'exited' : signal === 'SIGKILL' ? 'killed' : 'signaled', describeExit(code, signal));
        return;
      case 'hung':
        this.#onFailure(workerId, code, signal, 'hung', `killed: it missed its heartbeats for ${String(this.#config.timeout)} s`);
        return;
      default:
        assertNever(state, 'worker state');
    }
  }

  #onFailure(workerId: number, code: number | null, signal: NodeJS.Signals | null, kind: RestartCause, cause: string): void {
    // Any exit the master did not ask for counts, a clean one too: a worker that keeps
    // exiting 0 on its own is as broken as one that crashes.
    const { log } = this.#options;
    const decision = this.#restarts.fail(Date.now(), this.#config);
    const hint = signal === 'SIGKILL' ? 'killed: out of memory?' : undefined;
    log.error({ workerId, code, signal, cause, hint, failures: decision.failures }, 'worker died');
    this.#replaceLater(workerId, kind);
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

  #requestReload(reason: string, done: ((result: ReloadResult) => void) | undefined): void {
    const { log } = this.#options;
    switch (this.#phase.kind) {
      case 'running':
        this.#beginReload(reason);
        if (done !== undefined) this.#reloadWaiters.push(done);
        return;
      case 'starting':
      case 'reloading':
        // Handled once the current step is over; HUPs meanwhile make one more reload, not many.
        log.info({ reason }, 'reload queued until the workers now starting are ready');
        this.#reloadPending = reason;
        if (done !== undefined) this.#pendingReloadWaiters.push(done);
        return;
      case 'delaying':
      case 'stopping':
        log.info({ reason }, 'reload ignored: stopping');
        done?.({ ok: false, reason: 'bicorn is stopping' });
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
    for (let i = 0; i < this.#target; i++) this.#fork(generation, config, { kind: 'reload' });
  }

  #onConfigFailed(error: unknown): void {
    if (this.#phase.kind !== 'reloading') return;
    // A config problem is the person's to fix: its message, not bicorn's stack.
    const reason = isBicornError(error) ? { reason: error.message } : { err: error };
    this.#options.log.error(reason, 'reload failed: the configuration is invalid; the old workers keep serving');
    this.#endReload({ ok: false, reason: `the configuration is invalid: ${isBicornError(error) ? error.message : String(error)}` });
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
    // Replacements still owed to the old generation are not owed any more.
    this.#replacing = [];
    log.info({ generation, workers: this.#target }, 'reloaded');
    this.#endReload({ ok: true, generation, workers: this.#target });
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
    this.#endReload({ ok: false, reason: `the new workers could not start: ${message}` });
  }

  #endReload(result: ReloadResult): void {
    this.#phase = { kind: 'running' };
    this.#options.notify({ type: 'reloaded', ok: result.ok, generation: this.#generation, workers: this.#target });
    for (const done of this.#reloadWaiters.splice(0)) done(result);
    this.#spawnMissing('scale');
    this.#runPendingReload();
  }

  #runPendingReload(): void {
    const reason = this.#reloadPending;
    if (reason === undefined || this.#phase.kind !== 'running') return;
    this.#reloadPending = undefined;
    this.#reloadWaiters = this.#pendingReloadWaiters.splice(0);
    this.#beginReload(reason);
  }

  #scale(change: ScaleChange, by: string): ScaleResult {
    if (this.#phase.kind === 'stopping' || this.#phase.kind === 'delaying') return { ok: false, reason: 'bicorn is stopping' };
    const { log } = this.#options;
    const from = this.#target;
    const to = 'to' in change ? change.to : from + change.by;
    if (to < 1) {
      log.warn({ by, workers: from }, 'scaling ignored: one worker is the least');
      return { ok: false, reason: `one worker is the least (there are ${String(from)})` };
    }
    this.#target = to;
    if (to === from) return { ok: true, from, to };
    this.#options.hooks?.nworkersChanged(to, from);
    log.info({ by, from, workers: to }, to > from ? 'adding workers' : 'removing workers');
    if (to > from) {
      this.#spawnMissing('scale');
      return { ok: true, from, to };
    }
    // The youngest go first: booting ones, else the last to become ready.
    const current = this.#workers.active(this.#generation);
    const leaving = [...current.filter((w) => w.state.kind === 'booting').reverse(), ...current.filter((w) => w.state.kind !== 'booting').reverse()];
    for (const entry of leaving.slice(0, current.length - to)) this.#stopWorker(entry, 'scaled down');
    return { ok: true, from, to };
  }

  /** A worker is to be replaced: the next one forked is its replacement. */
  #replaceLater(workerId: number, cause: RestartCause): void {
    this.#replacing.push({ kind: 'replacement', cause, replaces: workerId });
    this.#options.notify({ type: 'restart', workerId, cause });
  }

  /** Forks what the target lacks: replacements first, then workers started for `otherwise`. */
  #spawnMissing(otherwise: 'start' | 'scale'): void {
    if (this.#phase.kind === 'stopping' || (this.#phase.kind === 'reloading' && this.#phase.config !== undefined)) return;
    for (let active = this.#workers.active(this.#generation).length; active < this.#target; active++) {
      this.#fork(this.#generation, this.#config, this.#replacing.shift() ?? { kind: otherwise });
    }
  }

  #fork(generation: number, config: C, startedFor: StartReason): void {
    const workerId = this.#nextWorkerId++;
    this.#options.hooks?.preFork({ age: workerId, pid: undefined });
    this.#workers.add(this.#options.host.fork(workerId, config), generation, startedFor);
  }

  #stopWorker(entry: WorkerEntry, reason: string, mode: StopMode = 'graceful'): void {
    // A hung worker cannot read a stop message, and its SIGKILL is already due.
    if (entry.state.kind === 'hung') return;
    this.#options.dispatcher.remove(entry.handle.id);
    // A worker that reported a failed boot is already exiting; its exit is logged as that failure.
    if (entry.state.kind === 'boot-failed') {
      this.#armStopTimer(entry, FAST_STOP_MS);
      return;
    }
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
    for (const done of [...this.#reloadWaiters.splice(0), ...this.#pendingReloadWaiters.splice(0)]) done({ ok: false, reason: 'bicorn stopped' });
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

// The arbiter: one queue of commands and one loop that acts on them, so that no two
// decisions about workers ever interleave (two reloads never overlap). Handlers only change
// the desired state (how many workers, of which generation, or none once stopping); after
// every command one #reconcile() forks what is missing and stops what is extra, from a pure
// plan (reconcile-plan.ts). Runs in the master; knows processes only through a WorkerHost.
import type { Config } from '@bicorn/config';
import { replacementDelay, type Logger } from '@bicorn/runtime';
import { assertNever, BicornError, ExitCode, isBicornError, type RecycleReason, type StopMode } from '@bicorn/protocol';
import type { Command, MasterSignal, ReloadResult, ScaleChange, ScaleResult } from './commands.js';
import type { Dispatcher, WorkerLoad } from './dispatch.js';
import { heartbeatInterval, heartbeatVerdicts } from './heartbeat-policy.js';
import { planReconcile, type DesiredState } from './reconcile-plan.js';
import { reloadedTarget, reloadStep } from './reload-policy.js';
import { BootFailures } from './restart-policy.js';
import type { WorkerHost } from './worker-host.js';
import { isServing, WorkerTable, type RestartCause, type StartReason, type WorkerEntry, type WorkerState } from './worker-table.js';

export type ArbiterConfig = Pick<Config, 'workers' | 'timeout' | 'graceful_timeout' | 'shutdown_delay' | 'restart_delay' | 'max_restarts' | 'restart_window'>;

/** What the arbiter tells the rest of the master (logs aside): for sd_notify, the pid file, the control socket and the metrics. */
export type ArbiterEvent =
  | { readonly type: 'ready'; readonly workers: number }
  | { readonly type: 'reloading' }
  /** A reload is over: `ok` when the new generation serves, else the old one still does. */
  | { readonly type: 'reloaded'; readonly ok: boolean; readonly generation: number; readonly workers: number }
  | { readonly type: 'stopping' }
  /** For the control socket and metrics: a worker became ready, exited, or is to be replaced. */
  | { readonly type: 'worker-ready'; readonly workerId: number }
  | { readonly type: 'worker-exited'; readonly workerId: number }
  | { readonly type: 'restart'; readonly workerId: number; readonly cause: RestartCause }
  /** A worker's Python process died (`cause`: the signal, or `exit N`); the worker restarts it in place. */
  | { readonly type: 'app-died'; readonly workerId: number; readonly cause: string };

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

/**
 * Deaths nobody asked for, by process and cause: a worker's (`SIGKILL`, `exit 1`, `heartbeat`,
 * `boot`), or a Python process's, which its worker restarts in place (`SIGSEGV`, `exit 13`).
 */
export interface DeathCount {
  readonly process: 'worker' | 'python';
  readonly cause: string;
  readonly count: number;
}

/** What the control socket and the metrics read of the arbiter: a copy, taken between commands. */
export interface ArbiterSnapshot {
  readonly phase: Phase<unknown>['kind'];
  readonly generation: number;
  /** The worker count the arbiter keeps. */
  readonly target: number;
  readonly workers: readonly WorkerSnapshot[];
  readonly deaths: readonly DeathCount[];
}

export interface WorkerSnapshot {
  readonly id: number;
  readonly pid: number | undefined;
  readonly generation: number;
  readonly state: WorkerState['kind'];
  readonly forkedAt: number;
  readonly startedFor: StartReason;
  /** Set while the dispatcher gives it connections. */
  readonly load: WorkerLoad | undefined;
  /** Its Python process's deaths, each restarted in place. */
  readonly appDeaths: number;
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
  /** A reload reads its config, then (`next` set) forks the next generation beside the serving one. */
  | { readonly kind: 'reloading'; readonly next: { readonly generation: number; readonly config: C } | undefined }
  /** Serving on for shutdown_delay; the stop that follows ends with ExitCode.Ok. */
  | { readonly kind: 'delaying' }
  | { readonly kind: 'stopping'; readonly mode: StopMode; readonly outcome: Outcome };

/** How long a fast stop, or a worker stopped while it boots, gets before SIGKILL. */
const FAST_STOP_MS = 2_000;
/** Slack past graceful_timeout for a worker to finish its own deadline and exit. */
const DEADLINE_SLACK_MS = 1_000;
/** After SIGABRT, how long a hung worker gets to die before SIGKILL. */
const ABORT_GRACE_MS = 2_000;
/** Forks per turn of the loop, so that signals are heard while a large -w starts. */
const FORKS_PER_TURN = 8;
/** Requests remembered for naming the ones that keep killing Python processes. */
const MAX_KILLERS = 256;

export class Arbiter<C extends ArbiterConfig> {
  readonly done: Promise<Outcome>;
  readonly #options: ArbiterOptions<C>;
  readonly #workers = new WorkerTable();
  readonly #queue: Command<C>[] = [];
  readonly #bootFailures = new BootFailures();
  readonly #deaths = new Map<string, DeathCount>();
  /** How often each request (`METHOD path`) was in flight when a Python process died. */
  readonly #killers = new Map<string, number>();
  /** The serving generation's config. */
  #config: C;
  /** The heartbeat timeout, fixed at start: the heartbeat timer is armed once (a restart applies a new one). */
  readonly #timeoutMs: number;
  #target: number;
  #generation = 1;
  #phase: Phase<C> = { kind: 'starting' };
  /** Until when each held slot of the serving generation stays empty (ms since the epoch). */
  #holds: number[] = [];
  #reloadPending: string | undefined;
  /** Who waits to hear how the running reload ends, and the queued one. */
  #reloadWaiters: ((result: ReloadResult) => void)[] = [];
  #pendingReloadWaiters: ((result: ReloadResult) => void)[] = [];
  /** Why the next workers forked for the serving generation are: replacements, in order. */
  #replacing: StartReason[] = [];
  #nextWorkerId = 1;
  #pingSeq = 0;
  #draining = false;
  #reconcileTimer: NodeJS.Timeout | undefined;
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
    if (this.#timeoutMs > 0) {
      this.#heartbeatTimer = setInterval(() => {
        this.enqueue({ type: 'heartbeat-due' });
      }, heartbeatInterval(this.#timeoutMs));
    }
    this.enqueue({ type: 'reconcile-due' });
  }

  enqueue(command: Command<C>): void {
    this.#queue.push(command);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        this.#handle(next);
        if (mayChangeWorkers(next)) this.#reconcile();
      }
    } finally {
      this.#draining = false;
    }
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
    const loads = this.#options.dispatcher.loads();
    return {
      phase: this.#phase.kind,
      generation: this.#generation,
      target: this.#target,
      workers: this.#workers.all().map((entry) => ({
        id: entry.handle.id,
        pid: entry.handle.pid,
        generation: entry.generation,
        state: entry.state.kind,
        forkedAt: entry.forkedAt,
        startedFor: entry.startedFor,
        load: loads.get(entry.handle.id),
        appDeaths: entry.appDeaths,
      })),
      deaths: [...this.#deaths.values()],
    };
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
      case 'worker-spawn-failed':
        this.#onSpawnFailed(command.workerId, command.reason);
        return;
      case 'config-loaded':
        this.#onConfigLoaded(command.config);
        return;
      case 'config-failed':
        this.#onConfigFailed(command.error);
        return;
      case 'reconcile-due':
        this.#reconcileTimer = undefined;
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
      case 'SIGTTOU':
        this.#scale({ by: signal === 'SIGTTIN' ? 1 : -1 }, signal);
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
      case 'accepted':
      case 'load':
        this.#options.dispatcher.update(workerId, message, message.type === 'accepted');
        return;
      case 'app-died':
        this.#onAppDied(entry, message.cause, message.inFlight);
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
      // Stopped while it booted (or it belongs to an aborted reload, whose generation number
      // the next reload takes again): now that it listens, it is told so; it stays on its way out.
      entry.handle.send({ type: 'stop', mode: phase.kind === 'stopping' ? phase.mode : 'graceful', timeoutMs: this.#gracefulMs() });
      return;
    }
    const now = Date.now();
    entry.state = { kind: 'ready' };
    entry.readyAt = now;
    entry.lastPong = now;
    this.#options.notify({ type: 'worker-ready', workerId });
    if (loadError === null) log.info({ workerId, workerPid: entry.handle.pid, interface: appInterface, generation: entry.generation, bootMs: now - entry.forkedAt }, 'worker ready');
    else log.warn({ workerId, workerPid: entry.handle.pid, generation: entry.generation }, 'worker ready, but the app failed to load: it answers 500 with the error until a file changes');
    if (entry.generation !== this.#generation) return; // the next generation serves once all of it is ready
    dispatcher.addReady(entry.handle);
    this.#tellCount(entry);
    if (phase.kind === 'starting' && this.#workers.active(this.#generation).length >= this.#target && this.#workers.allReady(this.#generation)) {
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
  }

  #onWorkerExit(workerId: number, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.#workers.remove(workerId);
    if (entry === undefined) return;
    this.#options.dispatcher.remove(workerId);
    this.#options.hooks?.childExit(hookWorker(entry));
    this.#options.notify({ type: 'worker-exited', workerId });
    const { state } = entry;
    if (state.kind === 'stopping' || this.#phase.kind === 'stopping') {
      // A worker that failed to load the app while a stop came (another's failure): say so.
      if (state.kind === 'boot-failed') this.#options.log.error({ workerId, code, signal, reason: state.message }, 'worker failed to boot');
      else this.#options.log.info({ workerId, reason: state.kind === 'stopping' ? state.reason : 'shutdown', code, signal }, 'worker stopped');
      return;
    }
    switch (state.kind) {
      case 'booting':
      case 'boot-failed':
        this.#onBootFailure(entry, state.kind === 'boot-failed' ? state : { exitCode: ExitCode.WorkerBoot, message: `worker ${String(workerId)} ${describeExit(code, signal)} before it was ready; see the log above` }, { code, signal });
        return;
      case 'ready':
      case 'retiring':
      case 'hung':
        this.#onServingDeath(entry, code, signal);
        return;
      default:
        assertNever(state, 'worker state');
    }
  }

  #onSpawnFailed(workerId: number, reason: string): void {
    const entry = this.#workers.remove(workerId);
    if (entry === undefined || entry.state.kind === 'stopping' || this.#phase.kind === 'stopping') return;
    this.#onBootFailure(entry, { exitCode: ExitCode.WorkerBoot, message: `cannot start worker process ${String(workerId)}: ${reason}; is the machine out of processes or memory? (see -w)` }, { code: null, signal: null });
  }

  /** A worker that never became ready: a back-off for its slot, and past the limit a stop. */
  /** `exit`: how its process ended (nothing when it could not be spawned). */
  #onBootFailure(entry: WorkerEntry, failure: { readonly exitCode: ExitCode; readonly message: string }, exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null }): void {
    const workerId = entry.handle.id;
    this.#countDeath('boot');
    const phase = this.#phase;
    if (phase.kind === 'reloading' && phase.next?.generation === entry.generation) {
      this.#abortReload(failure.message);
      return;
    }
    if (phase.kind === 'starting') {
      this.#options.log.error({ workerId, ...exit, reason: failure.message }, 'worker failed to boot');
      this.#halt(new BicornError('WORKER_BOOT_FAILED', { workerId, ...failure }));
      return;
    }
    if (entry.generation !== this.#generation) return;
    const now = Date.now();
    const decision = this.#bootFailures.record(now, this.#config, this.#workers.anyServing());
    if (decision.kind === 'give-up') {
      this.#halt(new BicornError('CRASH_LOOP', { failures: decision.failures, windowSeconds: this.#config.restart_window, ...failure }));
      return;
    }
    this.#replaceLater(workerId, 'boot-failed');
    const serving = this.#workers.all().filter(isServing).length;
    this.#options.log.error(
      { workerId, failures: decision.failures, retryInMs: decision.delayMs, serving, reason: failure.message },
      serving > 0 ? 'a replacement worker could not boot; retrying after a back-off while the other workers serve' : 'a replacement worker could not boot, and no worker serves; retrying after a back-off',
    );
    this.#holds.push(now + decision.delayMs);
  }

  /** A worker that served and died: replaced at once, unless it died sooner than it booted. */
  #onServingDeath(entry: WorkerEntry, code: number | null, signal: NodeJS.Signals | null): void {
    const now = Date.now();
    const readyAt = entry.readyAt ?? now;
    const hung = entry.state.kind === 'hung';
    const cause = hung ? 'heartbeat' : (signal ?? `exit ${String(code)}`);
    const deaths = this.#countDeath(cause);
    const hint = signal === 'SIGKILL' && !hung ? 'killed: out of memory?' : undefined;
    const delayMs = replacementDelay(readyAt - entry.forkedAt, now - readyAt);
    this.#options.log.error(
      { workerId: entry.handle.id, workerPid: entry.handle.pid, code, signal, cause: hung ? `killed: it missed its heartbeats for ${String(this.#config.timeout)} s` : describeExit(code, signal), hint, deaths, replaceInMs: delayMs },
      'worker died',
    );
    // A retiring worker's replacement was owed from its recycle on.
    if (entry.generation !== this.#generation || entry.state.kind === 'retiring') return;
    this.#replaceLater(entry.handle.id, hung ? 'hung' : signal === null ? 'exited' : signal === 'SIGKILL' ? 'killed' : 'signaled');
    if (delayMs > 0) this.#holds.push(now + delayMs);
  }

  /** A worker of the serving generation is to be replaced: the next one forked for it is its replacement. */
  #replaceLater(workerId: number, cause: RestartCause): void {
    this.#replacing.push({ kind: 'replacement', cause, replaces: workerId });
    this.#options.notify({ type: 'restart', workerId, cause });
  }

  /** A worker's Python process died (the worker logged it, and restarts it): counted, and a request that keeps being in flight then is named. */
  #onAppDied(entry: WorkerEntry, cause: string, inFlight: readonly string[]): void {
    entry.appDeaths++;
    this.#countDeath(cause, 'python');
    this.#options.notify({ type: 'app-died', workerId: entry.handle.id, cause });
    for (const request of inFlight) {
      const key = request.split('?')[0] ?? request;
      const deaths = (this.#killers.get(key) ?? 0) + 1;
      this.#killers.delete(key);
      this.#killers.set(key, deaths);
      if (this.#killers.size > MAX_KILLERS) this.#killers.delete(this.#killers.keys().next().value ?? key);
      // At 2, 4, 8… deaths: a request that keeps killing the app is named, without a line per death.
      if (deaths >= 2 && (deaths & (deaths - 1)) === 0) this.#options.log.warn({ workerId: entry.handle.id, request: key, deaths }, 'this request was in flight when a Python process died, again');
    }
  }

  #countDeath(cause: string, process: DeathCount['process'] = 'worker'): number {
    const key = `${process} ${cause}`;
    const count = (this.#deaths.get(key)?.count ?? 0) + 1;
    this.#deaths.set(key, { process, cause, count });
    return count;
  }

  #checkHeartbeats(): void {
    const { log, dispatcher } = this.#options;
    const { ping, hung } = heartbeatVerdicts(this.#workers.all(), Date.now(), this.#timeoutMs);
    for (const entry of hung) {
      log.error({ workerId: entry.handle.id, workerPid: entry.handle.pid, silentMs: Date.now() - entry.lastPong }, 'worker stopped answering heartbeats (its event loop is blocked); killing it with SIGABRT');
      dispatcher.remove(entry.handle.id);
      entry.state = { kind: 'hung' };
      entry.handle.kill('SIGABRT');
      // The stop timer escalates: SIGKILL if SIGABRT has not ended it within the grace.
      this.#armStopTimer(entry, ABORT_GRACE_MS);
    }
    const seq = ++this.#pingSeq;
    for (const entry of ping) entry.handle.send({ type: 'ping', seq });
  }

  #requestReload(reason: string, done: ((result: ReloadResult) => void) | undefined): void {
    const { log } = this.#options;
    switch (reloadStep(this.#phase.kind)) {
      case 'begin':
        this.#beginReload(reason);
        if (done !== undefined) this.#reloadWaiters.push(done);
        return;
      case 'queue':
        // Handled once the current step is over; HUPs meanwhile make one more reload, not many.
        log.info({ reason }, 'reload queued until the workers now starting are ready');
        this.#reloadPending = reason;
        if (done !== undefined) this.#pendingReloadWaiters.push(done);
        return;
      case 'ignore':
        log.info({ reason }, 'reload ignored: stopping');
        done?.({ ok: false, reason: 'bicorn is stopping' });
        return;
    }
  }

  #beginReload(reason: string): void {
    this.#options.log.info({ reason }, 'reloading: reading the configuration');
    this.#phase = { kind: 'reloading', next: undefined };
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
    const target = reloadedTarget(this.#target, this.#config.workers, config.workers);
    if (target !== this.#target) this.#options.hooks?.nworkersChanged(target, this.#target);
    this.#target = target;
    const generation = this.#generation + 1;
    this.#phase = { kind: 'reloading', next: { generation, config } };
    this.#options.hooks?.onReload(config);
    this.#options.log.info({ generation, workers: this.#target }, 'reloading: starting the new workers');
  }

  #onConfigFailed(error: unknown): void {
    if (this.#phase.kind !== 'reloading') return;
    // A config problem is the person's to fix: its message, not bicorn's stack.
    const reason = isBicornError(error) ? { reason: error.message } : { err: error };
    this.#options.log.error(reason, 'reload failed: the configuration is invalid; the old workers keep serving');
    this.#endReload({ ok: false, reason: `the configuration is invalid: ${isBicornError(error) ? error.message : String(error)}` });
  }

  /** Every worker of the reload's generation is ready: it takes over with the reloaded config. */
  #switchGeneration(): void {
    const phase = this.#phase;
    if (phase.kind !== 'reloading' || phase.next === undefined) return;
    const { generation, config } = phase.next;
    // The new workers take connections before the old ones stop taking them (the next plan).
    for (const entry of this.#workers.of(generation)) if (isServing(entry)) this.#options.dispatcher.addReady(entry.handle);
    this.#generation = generation;
    this.#config = config;
    // A scale during the reload moved the target after these workers were forked.
    for (const entry of this.#workers.of(generation)) this.#tellCount(entry);
    this.#holds = [];
    // Replacements still owed to the old generation are not owed any more.
    this.#replacing = [];
    this.#options.log.info({ generation, workers: this.#target }, 'reloaded');
    this.#endReload({ ok: true, generation, workers: this.#target });
  }

  #abortReload(message: string): void {
    const phase = this.#phase;
    if (phase.kind !== 'reloading' || phase.next === undefined) return;
    this.#options.log.error({ reason: message }, 'reload failed: the new workers could not start; the old workers keep serving');
    for (const entry of this.#workers.of(phase.next.generation)) {
      if (entry.state.kind !== 'stopping') this.#terminate(entry, 'reload failed');
    }
    this.#endReload({ ok: false, reason: `the new workers could not start: ${message}` });
  }

  #endReload(result: ReloadResult): void {
    this.#phase = { kind: 'running' };
    this.#options.notify({ type: 'reloaded', ok: result.ok, generation: this.#generation, workers: this.#target });
    for (const done of this.#reloadWaiters.splice(0)) done(result);
    this.#runPendingReload();
  }

  #runPendingReload(): void {
    const reason = this.#reloadPending;
    if (reason === undefined || this.#phase.kind !== 'running') return;
    this.#reloadPending = undefined;
    this.#reloadWaiters = this.#pendingReloadWaiters.splice(0);
    this.#beginReload(reason);
  }

  /** Sets the worker count; the reconcile forks or stops the difference (the youngest go first). */
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
    if (to !== from) {
      this.#options.hooks?.nworkersChanged(to, from);
      log.info({ by, from, workers: to }, to > from ? 'adding workers' : 'removing workers');
      for (const entry of this.#workers.all()) this.#tellCount(entry);
    }
    return { ok: true, from, to };
  }

  /** Makes the workers what the desired state says: forks, stops, and the switch of a reload. */
  #reconcile(): void {
    const now = Date.now();
    this.#holds = this.#holds.filter((until) => until > now);
    let forks = 0;
    let deferred = false;
    for (let pass = 0; pass < 2; pass++) {
      let switched = false;
      for (const action of planReconcile(this.#desired(), this.#workers.all())) {
        switch (action.kind) {
          case 'fork':
            if (forks < FORKS_PER_TURN) {
              this.#fork(action.generation, now);
              forks++;
            } else deferred = true;
            break;
          case 'stop':
            this.#stopWorker(action.entry, action.reason, action.mode);
            break;
          case 'terminate':
            this.#terminate(action.entry, action.reason);
            break;
          case 'switch':
            this.#switchGeneration();
            switched = true;
            break;
          default:
            assertNever(action, 'action');
        }
      }
      // After a switch, the old generation is planned out against the new desired state.
      if (!switched) break;
    }
    const phase = this.#phase;
    if (phase.kind === 'stopping') {
      if (this.#workers.size === 0) this.#complete(phase.outcome);
      return;
    }
    this.#armReconcile(deferred ? 0 : Math.min(...this.#holds) - now);
  }

  #desired(): DesiredState {
    const phase = this.#phase;
    return {
      generation: this.#generation,
      target: this.#target,
      next: phase.kind === 'reloading' ? phase.next?.generation : undefined,
      held: this.#holds.length,
      stop: phase.kind === 'stopping' ? phase.mode : undefined,
    };
  }

  /** The next reconcile after `ms` (a held slot's due time); Infinity: none is due. */
  #armReconcile(ms: number): void {
    clearTimeout(this.#reconcileTimer);
    this.#reconcileTimer = undefined;
    if (!Number.isFinite(ms)) return;
    this.#reconcileTimer = setTimeout(() => {
      this.enqueue({ type: 'reconcile-due' });
    }, Math.max(0, ms));
  }

  #fork(generation: number, now: number): void {
    const next = this.#phase.kind === 'reloading' && this.#phase.next?.generation === generation ? this.#phase.next : undefined;
    const startedFor: StartReason = next !== undefined ? { kind: 'reload' } : (this.#replacing.shift() ?? { kind: this.#phase.kind === 'starting' ? 'start' : 'scale' });
    const workerId = this.#nextWorkerId++;
    this.#options.hooks?.preFork({ age: workerId, pid: undefined });
    // A worker sizes itself by the workers it runs among (its share of the spool budget, whether
    // it gathers its frames to its Python process): the target, which scaling moves, not the
    // configured count.
    const config = next?.config ?? this.#config;
    this.#workers.add(this.#options.host.fork(workerId, { ...config, workers: this.#target }), generation, startedFor, now, this.#target);
  }

  /** Tells a serving worker of its generation the target, when scaling moved it since the worker was forked or last told. */
  #tellCount(entry: WorkerEntry): void {
    // A worker that boots cannot take the message yet: it is told once ready.
    if (entry.state.kind !== 'ready' || entry.generation !== this.#generation || entry.workers === this.#target) return;
    entry.workers = this.#target;
    entry.handle.send({ type: 'workers', count: this.#target });
  }

  #stopWorker(entry: WorkerEntry, reason: string, mode: StopMode): void {
    // A hung worker cannot read a stop message, and its SIGKILL is already due.
    if (entry.state.kind === 'hung') return;
    this.#options.dispatcher.remove(entry.handle.id);
    entry.state = { kind: 'stopping', reason, mode };
    entry.handle.send({ type: 'stop', mode, timeoutMs: this.#gracefulMs() });
    this.#armStopTimer(entry, mode === 'fast' ? FAST_STOP_MS : this.#gracefulMs() + DEADLINE_SLACK_MS);
  }

  /** A worker that does not serve yet has nothing to drain; before its stop handler, SIGTERM ends it. */
  #terminate(entry: WorkerEntry, reason: string): void {
    this.#options.dispatcher.remove(entry.handle.id);
    // A worker that reported a failed boot is already exiting; its exit is logged as that failure.
    if (entry.state.kind === 'boot-failed') {
      if (entry.stopTimer === undefined) this.#armStopTimer(entry, FAST_STOP_MS);
      return;
    }
    entry.state = { kind: 'stopping', reason, mode: 'fast' };
    entry.handle.kill('SIGTERM');
    this.#armStopTimer(entry, FAST_STOP_MS);
  }

  #gracefulMs(): number {
    return Math.round(this.#config.graceful_timeout * 1000);
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
    this.#holds = [];
    clearTimeout(this.#reconcileTimer);
    clearTimeout(this.#delayTimer);
  }

  /** Enters delaying or stopping; the first step out of service tells systemd (STOPPING=1), once. */
  #leaveService(phase: Extract<Phase<C>, { kind: 'delaying' | 'stopping' }>): void {
    const serving = this.#phase.kind !== 'delaying' && this.#phase.kind !== 'stopping';
    this.#phase = phase;
    if (serving) this.#options.notify({ type: 'stopping' });
  }

  #complete(outcome: Outcome): void {
    for (const done of [...this.#reloadWaiters.splice(0), ...this.#pendingReloadWaiters.splice(0)]) done({ ok: false, reason: 'bicorn stopped' });
    clearTimeout(this.#reconcileTimer);
    clearTimeout(this.#delayTimer);
    clearInterval(this.#heartbeatTimer);
    this.#finish(outcome);
  }
}

/** A worker's load and heartbeat, which come with every connection and ping, change no desired state. */
function mayChangeWorkers(command: Command<unknown>): boolean {
  if (command.type !== 'worker-message') return true;
  const { type } = command.message;
  return type !== 'accepted' && type !== 'load' && type !== 'pong' && type !== 'draining';
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`;
}

function hookWorker(entry: WorkerEntry): HookWorker {
  return { age: entry.handle.id, pid: entry.appPid ?? entry.handle.pid };
}

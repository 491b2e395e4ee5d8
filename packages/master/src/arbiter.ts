// The arbiter: one queue of commands and one loop that acts on them, so that no two
// decisions about workers ever interleave. Runs in the master; knows processes only
// through a WorkerHost.
import type { Config } from '@bicorn/config';
import type { Logger } from '@bicorn/runtime';
import { assertNever, BicornError, ExitCode, type StopMode, type WorkerMessage } from '@bicorn/protocol';
import type { Command, StopSignal } from './commands.js';
import type { Dispatcher } from './dispatch.js';
import type { WorkerHandle, WorkerHost } from './worker-host.js';

export type ArbiterConfig = Pick<Config, 'workers' | 'graceful_timeout' | 'restart_delay' | 'max_restarts' | 'restart_window'>;

export interface ArbiterOptions {
  readonly config: ArbiterConfig;
  readonly host: WorkerHost;
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  /** Closes the listeners; called once when a stop begins. */
  readonly stopAccepting: () => void;
  /** Called once, when every worker of the first generation is ready. */
  readonly onReady: () => void;
}

export type Outcome = { readonly exitCode: typeof ExitCode.Ok } | { readonly error: BicornError };

type WorkerState =
  | { readonly kind: 'booting' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'boot-failed'; readonly exitCode: ExitCode; readonly message: string };

interface WorkerEntry {
  readonly handle: WorkerHandle;
  state: WorkerState;
}

type Phase =
  | { readonly kind: 'starting' }
  | { readonly kind: 'running' }
  | { readonly kind: 'stopping'; readonly mode: StopMode; readonly outcome: Outcome };

const MAX_RESTART_DELAY_MS = 30_000;
/** How long a fast stop waits for workers before killing them. */
const FAST_STOP_MS = 2_000;
/** Slack past graceful_timeout for a worker to finish its own deadline and exit. */
const DEADLINE_SLACK_MS = 1_000;

export class Arbiter {
  readonly done: Promise<Outcome>;
  readonly #options: ArbiterOptions;
  readonly #workers = new Map<number, WorkerEntry>();
  readonly #queue: Command[] = [];
  readonly #failures: number[] = [];
  #phase: Phase = { kind: 'starting' };
  #nextWorkerId = 1;
  #draining = false;
  #respawnTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #finish: (outcome: Outcome) => void = () => undefined;

  constructor(options: ArbiterOptions) {
    this.#options = options;
    this.done = new Promise((resolve) => {
      this.#finish = resolve;
    });
  }

  start(): void {
    this.#spawnMissing();
  }

  enqueue(command: Command): void {
    this.#queue.push(command);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) this.#handle(next);
    } finally {
      this.#draining = false;
    }
  }

  #handle(command: Command): void {
    switch (command.type) {
      case 'signal':
        this.#onSignal(command.signal);
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
      case 'respawn-due':
        this.#respawnTimer = undefined;
        this.#spawnMissing();
        return;
      case 'stop-deadline':
        this.#onStopDeadline();
        return;
      default:
        assertNever(command, 'command');
    }
  }

  #onSignal(signal: StopSignal): void {
    const { log } = this.#options;
    if (this.#phase.kind !== 'stopping') {
      const mode: StopMode = signal === 'SIGQUIT' ? 'fast' : 'graceful';
      log.info({ signal, mode }, 'stopping');
      this.#stop(mode, { exitCode: ExitCode.Ok });
    } else if (signal !== 'SIGTERM' && this.#phase.mode === 'graceful') {
      log.warn({ signal }, 'second stop signal: stopping at once');
      this.#stop('fast', this.#phase.outcome);
    } else {
      log.info({ signal }, 'already stopping');
    }
  }

  #onWorkerMessage(workerId: number, message: WorkerMessage): void {
    const entry = this.#workers.get(workerId);
    if (entry === undefined) return;
    switch (message.type) {
      case 'hello':
        return; // answered with the boot message by the host
      case 'ready':
        this.#onWorkerReady(entry, message.interface);
        return;
      case 'boot-failed':
        entry.state = { kind: 'boot-failed', exitCode: message.exitCode, message: message.message };
        return;
      case 'draining':
        this.#options.log.debug({ workerId, inFlight: message.inFlight }, 'worker draining');
        return;
      default:
        assertNever(message, 'worker message');
    }
  }

  #onWorkerReady(entry: WorkerEntry, appInterface: string): void {
    const { log, dispatcher } = this.#options;
    const workerId = entry.handle.id;
    if (this.#phase.kind === 'stopping') {
      this.#sendStop(entry, this.#phase.mode);
      return;
    }
    entry.state = { kind: 'ready' };
    dispatcher.addReady(entry.handle);
    log.info({ workerId, workerPid: entry.handle.pid, interface: appInterface }, 'worker ready');
    if (this.#phase.kind === 'starting' && this.#allReady()) {
      this.#phase = { kind: 'running' };
      this.#options.onReady();
    }
  }

  #onWorkerExit(workerId: number, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.#workers.get(workerId);
    if (entry === undefined) return;
    this.#workers.delete(workerId);
    this.#options.dispatcher.remove(workerId);
    const { log } = this.#options;

    if (this.#phase.kind === 'stopping') {
      log.info({ workerId, code, signal }, 'worker stopped');
      if (this.#workers.size === 0) this.#complete(this.#phase.outcome);
      return;
    }
    switch (entry.state.kind) {
      case 'boot-failed':
        this.#halt(new BicornError('WORKER_BOOT_FAILED', { workerId, exitCode: entry.state.exitCode, message: entry.state.message }));
        return;
      case 'booting':
        this.#halt(
          new BicornError('WORKER_BOOT_FAILED', {
            workerId,
            exitCode: ExitCode.WorkerBoot,
            message: `worker ${String(workerId)} ${describeExit(code, signal)} before it was ready; see the log above`,
          }),
        );
        return;
      case 'ready':
        this.#onUnexpectedExit(workerId, code, signal);
        return;
      default:
        assertNever(entry.state, 'worker state');
    }
  }

  #onUnexpectedExit(workerId: number, code: number | null, signal: NodeJS.Signals | null): void {
    // Any exit the master did not ask for counts, a clean one too: a worker that keeps
    // exiting 0 on its own is as broken as one that crashes.
    const { log, config } = this.#options;
    const now = Date.now();
    this.#failures.push(now);
    const windowMs = config.restart_window * 1000;
    while ((this.#failures[0] ?? now) < now - windowMs) this.#failures.shift();
    const failures = this.#failures.length;
    const hint = signal === 'SIGKILL' ? 'killed: out of memory?' : undefined;
    log.error({ workerId, code, signal, hint, failures }, 'worker died');
    if (failures > config.max_restarts) {
      this.#halt(new BicornError('CRASH_LOOP', { failures, windowSeconds: config.restart_window }));
      return;
    }
    const delayMs = Math.min(config.restart_delay * 1000 * 2 ** (failures - 1), MAX_RESTART_DELAY_MS);
    log.info({ delayMs }, 'replacing worker');
    this.#respawnTimer ??= setTimeout(() => {
      this.enqueue({ type: 'respawn-due' });
    }, delayMs);
  }

  #onStopDeadline(): void {
    this.#deadlineTimer = undefined;
    for (const [workerId, entry] of this.#workers) {
      this.#options.log.error({ workerId, workerPid: entry.handle.pid }, 'worker still busy at the stop deadline; killing it');
      entry.handle.kill('SIGKILL');
    }
  }

  #spawnMissing(): void {
    if (this.#phase.kind === 'stopping') return;
    while (this.#workers.size < this.#options.config.workers) {
      const workerId = this.#nextWorkerId++;
      const handle = this.#options.host.fork(workerId);
      this.#workers.set(workerId, { handle, state: { kind: 'booting' } });
    }
  }

  #halt(error: BicornError): void {
    this.#options.log.debug({ code: error.code }, 'halting');
    this.#stop('fast', { error });
  }

  #stop(mode: StopMode, outcome: Outcome): void {
    const wasStopping = this.#phase.kind === 'stopping';
    this.#phase = { kind: 'stopping', mode, outcome };
    if (!wasStopping) {
      this.#options.stopAccepting();
      this.#options.dispatcher.dropWaiting();
    }
    clearTimeout(this.#respawnTimer);
    clearTimeout(this.#deadlineTimer);
    if (this.#workers.size === 0) {
      this.#complete(outcome);
      return;
    }
    for (const entry of this.#workers.values()) this.#sendStop(entry, mode);
    const deadlineMs = mode === 'fast' ? FAST_STOP_MS : this.#options.config.graceful_timeout * 1000 + DEADLINE_SLACK_MS;
    this.#deadlineTimer = setTimeout(() => {
      this.enqueue({ type: 'stop-deadline' });
    }, deadlineMs);
  }

  #sendStop(entry: WorkerEntry, mode: StopMode): void {
    this.#options.dispatcher.remove(entry.handle.id);
    entry.handle.send({ type: 'stop', mode, timeoutMs: Math.round(this.#options.config.graceful_timeout * 1000) });
  }

  #complete(outcome: Outcome): void {
    clearTimeout(this.#respawnTimer);
    clearTimeout(this.#deadlineTimer);
    this.#finish(outcome);
  }

  #allReady(): boolean {
    return this.#workers.size >= this.#options.config.workers && [...this.#workers.values()].every((w) => w.state.kind === 'ready');
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`;
}

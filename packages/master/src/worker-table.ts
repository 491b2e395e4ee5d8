// The arbiter's worker table: every worker process with its generation and state, and the
// questions the arbiter asks of them. Runs in the master.
import type { ExitCode, RecycleReason, StopMode } from '@bicorn/protocol';
import type { WorkerHandle } from './worker-host.js';

export type WorkerState =
  | { readonly kind: 'booting' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'boot-failed'; readonly exitCode: ExitCode; readonly message: string }
  /** Asked to be replaced: it serves until its replacement is ready (unless it timed out). */
  | { readonly kind: 'retiring'; readonly reason: RecycleReason }
  /** Told to stop (a booting one with SIGTERM, which is `fast`): its exit is expected. */
  | { readonly kind: 'stopping'; readonly reason: string; readonly mode: StopMode }
  /** Sent SIGABRT for missing its heartbeats (its stop timer sends SIGKILL): its exit is a failure. */
  | { readonly kind: 'hung' };

/** Why a worker had to be replaced: how it died (`hung`: killed for missing heartbeats), or why it was recycled. */
export type RestartCause = 'exited' | 'signaled' | 'killed' | 'hung' | 'boot-failed' | RecycleReason;

/** Why a worker was forked: one of the first, a reload's, a scale-up's, or in place of another. */
export type StartReason = { readonly kind: 'start' | 'reload' | 'scale' } | { readonly kind: 'replacement'; readonly cause: RestartCause; readonly replaces: number };

export interface WorkerEntry {
  readonly handle: WorkerHandle;
  readonly generation: number;
  readonly startedFor: StartReason;
  state: WorkerState;
  /** When it was forked, and when it became ready (ms since the epoch). */
  readonly forkedAt: number;
  readyAt: number | undefined;
  /** When the worker last answered a heartbeat, or became ready. */
  lastPong: number;
  /** Kills the worker if a stop takes too long. */
  stopTimer: NodeJS.Timeout | undefined;
  /** Its Python process, once the worker said it started. */
  appPid: number | undefined;
  /** Its Python process died and the worker started it again, this many times. */
  appDeaths: number;
  /** The count of workers it sizes itself by: the target when it was forked, then each scale's it was told. */
  workers: number;
}

/** It serves: ready, or serving on until its replacement is. */
export function isServing(entry: WorkerEntry): boolean {
  return entry.state.kind === 'ready' || entry.state.kind === 'retiring';
}

/** It counts towards its generation's worker count: not retiring, stopping or hung. */
export function isActive(entry: WorkerEntry): boolean {
  return entry.state.kind === 'booting' || entry.state.kind === 'ready' || entry.state.kind === 'boot-failed';
}

export class WorkerTable {
  readonly #entries = new Map<number, WorkerEntry>();

  get size(): number {
    return this.#entries.size;
  }

  get(workerId: number): WorkerEntry | undefined {
    return this.#entries.get(workerId);
  }

  add(handle: WorkerHandle, generation: number, startedFor: StartReason, now: number, workers: number): WorkerEntry {
    const entry: WorkerEntry = { handle, generation, startedFor, state: { kind: 'booting' }, forkedAt: now, readyAt: undefined, lastPong: now, stopTimer: undefined, appPid: undefined, appDeaths: 0, workers };
    this.#entries.set(handle.id, entry);
    return entry;
  }

  /** Forgets a worker that exited; returns its entry. */
  remove(workerId: number): WorkerEntry | undefined {
    const entry = this.#entries.get(workerId);
    if (entry === undefined) return undefined;
    this.#entries.delete(workerId);
    clearTimeout(entry.stopTimer);
    return entry;
  }

  /** Every worker, oldest first. */
  all(): WorkerEntry[] {
    return [...this.#entries.values()];
  }

  of(generation: number): WorkerEntry[] {
    return this.all().filter((entry) => entry.generation === generation);
  }

  active(generation: number): WorkerEntry[] {
    return this.of(generation).filter(isActive);
  }

  /** Every worker forked for the generation is ready (a TTIN meanwhile is filled in after). */
  allReady(generation: number): boolean {
    const workers = this.of(generation);
    return workers.some(({ state }) => state.kind === 'ready') && !workers.some(({ state }) => state.kind === 'booting' || state.kind === 'boot-failed');
  }

  /** Some worker, of any generation, serves. */
  anyServing(): boolean {
    return this.all().some(isServing);
  }
}

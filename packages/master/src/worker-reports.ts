// The latest report of each worker (its `stats` message, every second) and the count of
// restarts, for `bicorn status`. Runs in the master.
import type { WorkerStats } from '@bicorn/protocol';
import type { ArbiterEvent } from './arbiter.js';

export class WorkerReports {
  readonly #latest = new Map<number, WorkerStats>();
  #restarts = 0;

  /** Workers replaced since the start: deaths and recycles. */
  get restarts(): number {
    return this.#restarts;
  }

  onStats(workerId: number, stats: WorkerStats): void {
    this.#latest.set(workerId, stats);
  }

  onEvent(event: ArbiterEvent): void {
    if (event.type === 'worker-exited') this.#latest.delete(event.workerId);
    if (event.type === 'restart') this.#restarts++;
  }

  get(workerId: number): WorkerStats | undefined {
    return this.#latest.get(workerId);
  }
}

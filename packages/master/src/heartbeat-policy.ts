// Heartbeats as a pure decision: which serving workers get the next ping, and which have been
// silent for longer than the timeout, their event loop blocked. Runs in the master.
import { isServing, type WorkerEntry } from './worker-table.js';

export interface HeartbeatVerdicts {
  readonly ping: readonly WorkerEntry[];
  readonly hung: readonly WorkerEntry[];
}

/** Several pings per timeout, so that one late pong is never mistaken for a hang. */
export function heartbeatInterval(timeoutMs: number): number {
  return Math.min(Math.max(timeoutMs / 4, 50), 2_000);
}

export function heartbeatVerdicts(entries: readonly WorkerEntry[], now: number, timeoutMs: number): HeartbeatVerdicts {
  const ping: WorkerEntry[] = [];
  const hung: WorkerEntry[] = [];
  for (const entry of entries) {
    if (!isServing(entry)) continue;
    if (now - entry.lastPong > timeoutMs) hung.push(entry);
    else ping.push(entry);
  }
  return { ping, hung };
}

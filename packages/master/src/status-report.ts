// What `bicorn status` shows: the arbiter's worker table joined with each worker's last report,
// and the facts of the server. Pure; runs in the master.
import { CONTROL_PROTOCOL_VERSION, type StatusReport, type WorkerRow } from '@bicorn/protocol';
import type { ArbiterSnapshot, WorkerSnapshot } from './arbiter.js';
import type { WorkerReports } from './worker-reports.js';
import type { StartReason } from './worker-table.js';

export interface ServerFacts {
  readonly version: string;
  readonly app: string;
  readonly startedAt: number;
  readonly configFile: string | null;
  readonly listeners: readonly string[];
  readonly metrics: string | null;
}

export function statusReport(snapshot: ArbiterSnapshot, reports: WorkerReports, facts: ServerFacts, now: number): StatusReport {
  return {
    protocol: CONTROL_PROTOCOL_VERSION,
    version: facts.version,
    pid: process.pid,
    app: facts.app,
    phase: snapshot.phase,
    uptimeSeconds: seconds(now - facts.startedAt),
    generation: snapshot.generation,
    workers: snapshot.target,
    configFile: facts.configFile,
    listeners: facts.listeners,
    metrics: facts.metrics,
    restarts: reports.restarts,
    rows: snapshot.workers.map((worker) => row(worker, reports, now)),
  };
}

function row(worker: WorkerSnapshot, reports: WorkerReports, now: number): WorkerRow {
  const stats = reports.get(worker.id);
  return {
    id: worker.id,
    pid: worker.pid ?? null,
    pythonPid: stats?.pythonPid ?? null,
    generation: worker.generation,
    state: worker.state,
    ageSeconds: seconds(now - worker.forkedAt),
    served: stats?.served ?? null,
    inFlight: stats?.inFlight ?? null,
    rssBytes: stats === undefined ? null : stats.rss + (stats.pythonRss ?? 0),
    restartCause: restartCause(worker.startedFor),
    appFree: worker.load?.free ?? null,
    waiting: worker.load?.waiting ?? null,
    pythonRestarts: worker.appDeaths,
  };
}

function restartCause(reason: StartReason): string | null {
  switch (reason.kind) {
    case 'start':
      return null;
    case 'reload':
    case 'scale':
      return reason.kind;
    case 'replacement':
      return `${reason.cause} (worker ${String(reason.replaces)})`;
  }
}

function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 100) / 10);
}

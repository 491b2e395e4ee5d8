// Reloads as pure decisions: what a reload request does in each phase of the arbiter, and how
// many workers the reloaded generation gets. Runs in the master.

export type PhaseKind = 'starting' | 'running' | 'reloading' | 'delaying' | 'stopping';

/**
 * `begin` now; `queue` until the workers now starting are ready (HUPs meanwhile make one more
 * reload, not many); `ignore` once stopping.
 */
export function reloadStep(phase: PhaseKind): 'begin' | 'queue' | 'ignore' {
  switch (phase) {
    case 'running':
      return 'begin';
    case 'starting':
    case 'reloading':
      return 'queue';
    case 'delaying':
    case 'stopping':
      return 'ignore';
  }
}

/** A worker count changed in the config wins over TTIN and TTOU; else the scaled count stays. */
export function reloadedTarget(target: number, runningWorkers: number, reloadedWorkers: number): number {
  return reloadedWorkers === runningWorkers ? target : reloadedWorkers;
}

// How soon a process that served and died is replaced: at once, unless it died sooner after it
// became ready than its boot took; then the replacement waits the difference. A flood of
// crashing requests thus leaves each slot serving at least half of the time, instead of only
// booting. Used by the master for workers and by a worker for its Python process.

const MAX_DELAY_MS = 30_000;

export function replacementDelay(bootMs: number, servedMs: number): number {
  return Math.min(Math.max(0, bootMs - servedMs), MAX_DELAY_MS);
}

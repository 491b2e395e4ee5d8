// Where request and response bodies wait on disk, and how much each worker may put there: by
// default a quarter of the free space of that directory's file system at start, shared by the
// workers, so that a flood of uploads or of clients that never read cannot fill the disk. Used
// by the worker at boot and by `bicorn check`.
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** The share of the spool directory's free space that all workers together may use. */
export const SPOOL_SHARE_OF_FREE = 0.25;

export interface SpoolPlan {
  readonly dir: string;
  /** Bytes each worker may hold in spool files at once. */
  readonly budgetBytes: number;
  /** How the budget was set, for people: `spool_budget`, or the share of the free space. */
  readonly reason: string;
}

export function planSpool(dir: string | null, budget: number | null, workers: number): SpoolPlan {
  const spoolDir = dir ?? tmpdir();
  if (budget !== null) return { dir: spoolDir, budgetBytes: budget, reason: 'spool_budget' };
  let free: number;
  try {
    const stats = statfsSync(spoolDir);
    free = stats.bavail * stats.bsize;
  } catch (error) {
    return { dir: spoolDir, budgetBytes: 0, reason: `${spoolDir} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): nothing is spooled` };
  }
  const budgetBytes = Math.floor((free * SPOOL_SHARE_OF_FREE) / workers);
  return { dir: spoolDir, budgetBytes, reason: `a quarter of the ${formatBytes(free)} free in ${spoolDir}, shared by ${String(workers)} worker${workers === 1 ? '' : 's'}` };
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${String(bytes)} bytes` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

// The check of a worker count against what the machine lets bicorn run (machine-limits in
// @bicorn/config reads that): refused when the workers' processes and threads or their least
// memory cannot fit, warned of when they take more than half the memory or 4 per CPU. Runs in
// the master, at start.
import type { MachineLimits } from '@bicorn/config';

/** What one worker costs at least: its node process, and the Python process of a Python app. */
export interface WorkerCost {
  readonly tasks: number;
  readonly bytes: number;
}

const MiB = 1024 * 1024;
/** Measured (Linux, Node 20, Python 3.11): a worker has 11 threads and 60 MiB resident, a runner threads + 2 and 25 MiB. */
export function workerCost(python: { readonly threads: number } | undefined): WorkerCost {
  return python === undefined ? { tasks: 11, bytes: 60 * MiB } : { tasks: 11 + python.threads + 2, bytes: 85 * MiB };
}

/** Beyond this many workers per CPU, they mostly wait for each other. */
const WORKERS_PER_CPU = 4;

export interface WorkerCheck {
  /** The count cannot run here: why. */
  readonly refuse: string | undefined;
  readonly warnings: readonly string[];
}

export function checkWorkerCount(workers: number, cost: WorkerCost, limits: MachineLimits): WorkerCheck {
  const warnings: string[] = [];
  const { tasks, cpus, memoryBytes } = limits;
  if (tasks !== undefined && workers * cost.tasks > tasks.value) {
    return { refuse: `${String(workers)} workers need about ${String(workers * cost.tasks)} processes and threads, and ${tasks.from} leaves ${String(tasks.value)}`, warnings };
  }
  const bytes = workers * cost.bytes;
  if (bytes > memoryBytes.value) {
    return { refuse: `${String(workers)} workers need at least ${mib(bytes)} of memory, and ${memoryBytes.from} is ${mib(memoryBytes.value)}`, warnings };
  }
  if (bytes > memoryBytes.value / 2) warnings.push(`${String(workers)} workers need at least ${mib(bytes)} of memory, more than half of ${memoryBytes.from} (${mib(memoryBytes.value)}); the app's own memory comes on top`);
  if (workers > WORKERS_PER_CPU * cpus.value) warnings.push(`${String(workers)} workers for ${String(cpus.value)} CPUs (${cpus.from}): beyond ${String(WORKERS_PER_CPU)} per CPU they mostly wait for each other`);
  return { refuse: undefined, warnings };
}

function mib(bytes: number): string {
  return `${String(Math.round(bytes / MiB))} MiB`;
}

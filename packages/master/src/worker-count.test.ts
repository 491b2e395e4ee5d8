import type { MachineLimits } from '@bicorn/config';
import { describe, expect, it } from 'vitest';
import { checkWorkerCount, workerCost } from './worker-count.js';

describe('the worker count check', () => {
  const machine: MachineLimits = { tasks: { value: 48, from: 'pids.max of cgroup /a' }, cpus: { value: 2, from: 'the cores' }, memoryBytes: { value: 4096 * 1024 * 1024, from: "the machine's memory" } };

  it('refuses more workers than the task limit can hold, saying which limit', () => {
    expect(checkWorkerCount(4, workerCost({ threads: 1 }), machine).refuse).toBe('4 workers need about 56 processes and threads, and pids.max of cgroup /a leaves 48');
    expect(checkWorkerCount(3, workerCost({ threads: 1 }), machine).refuse).toBeUndefined();
  });

  it('refuses more workers than the memory can hold, and warns beyond half of it or 4 per CPU', () => {
    const roomy = { ...machine, tasks: undefined };
    expect(checkWorkerCount(100, workerCost(undefined), roomy).refuse).toBe("100 workers need at least 6000 MiB of memory, and the machine's memory is 4096 MiB");
    expect(checkWorkerCount(40, workerCost(undefined), roomy).warnings).toEqual([
      "40 workers need at least 2400 MiB of memory, more than half of the machine's memory (4096 MiB); the app's own memory comes on top",
      '40 workers for 2 CPUs (the cores): beyond 4 per CPU they mostly wait for each other',
    ]);
    expect(checkWorkerCount(8, workerCost(undefined), roomy)).toEqual({ refuse: undefined, warnings: [] });
  });
});

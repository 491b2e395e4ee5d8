import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readMachineLimits, usableCpus } from './machine-limits.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true });
});

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'bicorn-limits-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const limits = 'Limit Soft Limit Hard Limit Units\nMax processes             60                   60                   processes\n';

describe('machine limits', () => {
  it('reads the tightest cgroup v2 limits along the path, less the tasks already there', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '0::/a/b\n',
      'proc/self/limits': limits,
      'sys/fs/cgroup/a/pids.max': '48\n',
      'sys/fs/cgroup/a/pids.current': '10\n',
      'sys/fs/cgroup/a/b/pids.max': 'max\n',
      'sys/fs/cgroup/a/b/cpu.max': '50000 100000\n',
      'sys/fs/cgroup/a/memory.max': `${String(512 * 1024 * 1024)}\n`,
    });
    expect(readMachineLimits(root, 0)).toEqual({
      tasks: { value: 38, from: 'pids.max of cgroup /a' },
      cpus: { value: 0.5, from: 'the CPU quota of cgroup /a/b' },
      memoryBytes: { value: 512 * 1024 * 1024, from: 'the memory limit of cgroup /a' },
    });
  });

  it('reads cgroup v1, and RLIMIT_NPROC for workers that do not run as root', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '8:pids:/x\n2:cpu,cpuacct:/\n4:memory:/x\n',
      'proc/self/limits': limits,
      'sys/fs/cgroup/pids/x/pids.max': '100\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/memory/x/memory.limit_in_bytes': '9223372036854771712\n',
    });
    const read = readMachineLimits(root, 1000);
    expect(read.tasks?.value).toBe(60);
    expect(read.tasks?.from).toMatch(/^RLIMIT_NPROC/);
    expect(read.cpus.from).toBe("this machine's cores, with no CPU quota");
    expect(read.memoryBytes.from).toBe("the machine's memory");
  });

  it('gives the CPUs a process may use: a quota fewer than the cores, else the cores', () => {
    const quota = fakeRoot({ 'proc/self/cgroup': '0::/a\n', 'sys/fs/cgroup/a/cpu.max': '50000 100000\n' });
    expect(usableCpus(quota)).toEqual({ value: 0.5, from: 'the CPU quota of cgroup /a' });
    const none = fakeRoot({ 'proc/self/cgroup': '0::/a\n', 'sys/fs/cgroup/a/cpu.max': 'max 100000\n' });
    expect(usableCpus(none)).toEqual({ value: availableParallelism(), from: "this machine's cores, with no CPU quota" });
  });
});

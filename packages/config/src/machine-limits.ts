// What the machine lets bicorn run, read where Linux keeps it (Node has no getrlimit): the
// task limit (RLIMIT_NPROC in /proc/self/limits; the cgroup's pids.max, which counts threads
// too), the CPUs (the cgroup's cpu.max quota, else the cores) and the memory (the cgroup's
// memory.max, else the machine's), from cgroup v2 or v1, the tightest along the cgroup's path.
// `-w auto` is one worker per whole CPU; the master checks its worker count against them at
// start; a worker reads the CPUs to choose how it writes to its Python process.
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Limit {
  readonly value: number;
  /** Where it comes from, for the message: `pids.max of cgroup /x`, `RLIMIT_NPROC`. */
  readonly from: string;
}

export interface MachineLimits {
  /** Tasks (processes and threads) that may still be created, when something limits them. */
  readonly tasks: Limit | undefined;
  readonly cpus: Limit;
  readonly memoryBytes: Limit;
}

/** `root` is `/` but for tests; `uid` is who the workers run as: root is exempt from RLIMIT_NPROC. */
export function readMachineLimits(root: string, uid: number): MachineLimits {
  const cgroups = parseCgroups(read(join(root, 'proc/self/cgroup')) ?? '');
  const nproc = uid === 0 ? undefined : readNproc(read(join(root, 'proc/self/limits')));
  const pids = tightest(cgroupDirs(root, cgroups, 'pids'), (dir) => {
    const max = numberIn(read(join(dir, 'pids.max')));
    const current = numberIn(read(join(dir, 'pids.current'))) ?? 0;
    return max === undefined ? undefined : Math.max(0, max - current);
  }, 'pids.max');
  const memory = tightest(cgroupDirs(root, cgroups, 'memory'), (dir) => numberIn(read(join(dir, 'memory.max'))) ?? numberIn(read(join(dir, 'memory.limit_in_bytes'))), 'the memory limit');
  const total = totalmem();
  return {
    tasks: [nproc, pids].filter((l): l is Limit => l !== undefined).sort((a, b) => a.value - b.value)[0],
    cpus: cpusIn(root, cgroups),
    memoryBytes: memory !== undefined && memory.value < total ? memory : { value: total, from: "the machine's memory" },
  };
}

/** The CPUs this process may use: its cgroup's CPU quota where that is fewer than the cores it may run on (a container's CPU limit). `root` is `/` but for tests. */
export function usableCpus(root = '/'): Limit {
  return cpusIn(root, parseCgroups(read(join(root, 'proc/self/cgroup')) ?? ''));
}

function cpusIn(root: string, cgroups: readonly { controllers: string[]; path: string }[]): Limit {
  const quota = tightest(cgroupDirs(root, cgroups, 'cpu'), (dir) => cpuQuota(dir), 'the CPU quota');
  const cores = availableParallelism();
  return quota !== undefined && quota.value < cores ? quota : { value: cores, from: "this machine's cores, with no CPU quota" };
}

/** (controllers, path) per line of /proc/self/cgroup; v2 has no controllers (`0::/path`). */
function parseCgroups(text: string): { controllers: string[]; path: string }[] {
  return text
    .split('\n')
    .map((line) => /^\d+:([^:]*):(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ controllers: (m[1] ?? '').split(',').filter((c) => c !== ''), path: m[2] ?? '/' }));
}

/** The cgroup directories of a controller, from this process's cgroup up to the root. */
function cgroupDirs(root: string, cgroups: readonly { controllers: string[]; path: string }[], controller: string): { dir: string; path: string }[] {
  const v1 = cgroups.find((c) => c.controllers.includes(controller));
  const v2 = cgroups.find((c) => c.controllers.length === 0);
  const base = v1 === undefined ? join(root, 'sys/fs/cgroup') : join(root, 'sys/fs/cgroup', v1.controllers.join(','));
  const path = v1?.path ?? v2?.path;
  if (path === undefined) return [];
  const dirs: { dir: string; path: string }[] = [];
  for (let at = path; ; at = at.slice(0, at.lastIndexOf('/')) || '/') {
    dirs.push({ dir: join(base, at), path: at });
    if (at === '/') break;
  }
  // v1 may mount a controller alone although /proc names it with others (cpu,cpuacct).
  if (v1 !== undefined && v1.controllers.length > 1) dirs.push(...cgroupDirs(root, [{ controllers: [controller], path }], controller));
  return dirs;
}

function tightest(dirs: readonly { dir: string; path: string }[], value: (dir: string) => number | undefined, what: string): Limit | undefined {
  let best: Limit | undefined;
  for (const { dir, path } of dirs) {
    const found = value(dir);
    if (found !== undefined && (best === undefined || found < best.value)) best = { value: found, from: `${what} of cgroup ${path}` };
  }
  return best;
}

function cpuQuota(dir: string): number | undefined {
  const v2 = read(join(dir, 'cpu.max'))?.trim().split(/\s+/);
  if (v2 !== undefined) {
    const [quota, period] = v2.map(Number);
    return quota !== undefined && period !== undefined && Number.isFinite(quota) && period > 0 ? quota / period : undefined;
  }
  const quota = numberIn(read(join(dir, 'cpu.cfs_quota_us')));
  const period = numberIn(read(join(dir, 'cpu.cfs_period_us')));
  return quota !== undefined && quota > 0 && period !== undefined && period > 0 ? quota / period : undefined;
}

function readNproc(text: string | undefined): Limit | undefined {
  const soft = /^Max processes\s+(\S+)/m.exec(text ?? '')?.[1];
  const value = soft === undefined ? undefined : numberIn(soft);
  return value === undefined ? undefined : { value, from: 'RLIMIT_NPROC (ulimit -u), which counts every process and thread of the user,' };
}

/** A number, or undefined for `max`, `unlimited` and v1's "no limit" (close to 2^63). */
function numberIn(text: string | undefined): number | undefined {
  const trimmed = text?.trim() ?? '';
  const value = Number(trimmed);
  return trimmed === '' || !Number.isFinite(value) || value >= 2 ** 62 ? undefined : value;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

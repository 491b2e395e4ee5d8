// The CPUs this process may use: the machine's cores, or fewer when its cgroup has a CPU quota
// (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`), as in a container with a CPU limit. Node 20's
// availableParallelism() ignores the quota. Runs in the CLI, for `bicorn check --deploy`.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { Cpus } from './supervisor-files.js';

/** `cpu.max` ("200000 100000", or "max 100000" for none) as CPUs. */
export function cpuMaxCpus(text: string): number | undefined {
  const [quota = '', period = ''] = text.trim().split(/\s+/);
  return quotaCpus(quota, period);
}

/** A quota and a period in microseconds as CPUs; "max" and v1's -1 mean no quota. */
export function quotaCpus(quota: string, period: string): number | undefined {
  const q = Number(quota.trim());
  const p = Number(period.trim());
  return Number.isFinite(q) && q > 0 && Number.isFinite(p) && p > 0 ? q / p : undefined;
}

/** The cgroup paths of /proc/self/cgroup: v2's ("0::/path") and v1's cpu controller. */
export function cgroupPaths(text: string): { readonly v2?: string; readonly v1cpu?: string } {
  const paths: { v2?: string; v1cpu?: string } = {};
  for (const line of text.split('\n')) {
    const [id, controllers = '', ...path] = line.split(':');
    if (id === '0' && controllers === '') paths.v2 = path.join(':');
    else if (controllers.split(',').includes('cpu')) paths.v1cpu = path.join(':');
  }
  return paths;
}

export function cgroupCpus(root = '/sys/fs/cgroup'): Cpus {
  const cores = availableParallelism();
  const machine: Cpus = { count: cores, from: `this machine's cores, with no cgroup CPU quota` };
  const paths = cgroupPaths(read('/proc/self/cgroup') ?? '');
  const quota =
    (paths.v2 === undefined ? undefined : smallestUpward(join(root, paths.v2), root, (dir) => {
      const text = read(join(dir, 'cpu.max'));
      return text === undefined ? undefined : cpuMaxCpus(text);
    }, 'cpu.max')) ??
    (paths.v1cpu === undefined ? undefined : smallestUpward(join(root, 'cpu', paths.v1cpu), join(root, 'cpu'), (dir) => {
      const q = read(join(dir, 'cpu.cfs_quota_us'));
      const p = read(join(dir, 'cpu.cfs_period_us'));
      return q === undefined || p === undefined ? undefined : quotaCpus(q, p);
    }, 'cpu.cfs_quota_us'));
  return quota === undefined || quota.count >= cores ? machine : quota;
}

/** The tightest quota from a cgroup up to the hierarchy's root: a parent's quota binds its children. */
function smallestUpward(start: string, root: string, cpusIn: (dir: string) => number | undefined, file: string): { count: number; from: string } | undefined {
  let found: { count: number; from: string } | undefined;
  for (let dir = start; dir.startsWith(root); dir = dirname(dir)) {
    const count = cpusIn(dir);
    if (count !== undefined && (found === undefined || count < found.count)) found = { count, from: `the cgroup's ${file} (${join(dir, file)})` };
    if (dir === root) break;
  }
  return found;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

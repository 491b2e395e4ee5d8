// A pids cgroup for end-to-end tests of process limits: a launcher that starts bicorn inside a
// fresh cgroup whose pids.max (tasks: processes and threads) is given. Needs root and a
// writable cgroup file system (v1 or v2); undefined where there is none.
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PidsCgroup {
  /** Starts the command after it in the cgroup (for BicornProcess's launcher option). */
  readonly launcher: readonly string[];
  /** Removes the cgroup; call once every process in it has exited. */
  remove(): void;
}

let made = 0;

export function pidsCgroup(max: number): PidsCgroup | undefined {
  for (const base of ['/sys/fs/cgroup/pids', '/sys/fs/cgroup']) {
    const dir = join(base, `bicorn-test-${String(process.pid)}-${String(++made)}`);
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    try {
      writeFileSync(join(dir, 'pids.max'), String(max));
    } catch {
      rmdirSync(dir);
      continue;
    }
    return { launcher: ['sh', '-c', `echo $$ > ${dir}/cgroup.procs && exec "$@"`, 'sh'], remove: () => rmdirSync(dir) };
  }
  return undefined;
}

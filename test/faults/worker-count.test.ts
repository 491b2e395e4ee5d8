import { describe, expect, it, onTestFinished } from 'vitest';
import { BicornProcess, fixture } from '../support/bicorn-process.js';
import { pidsCgroup } from '../support/cgroup.js';
import { hasPython, servePython } from '../support/python.js';

const cgroup = pidsCgroup(48);
if (cgroup !== undefined) cgroup.remove();

describe('a worker count beyond the machine', () => {
  it.skipIf(cgroup === undefined)('is refused at start under a 48-task cgroup, naming the limit', async () => {
    const limited = pidsCgroup(48);
    if (limited === undefined) throw new Error('no cgroup');
    const bicorn = new BicornProcess(['-w', '100000', '-b', '127.0.0.1:0', fixture('apps/fetch.mjs')], { launcher: limited.launcher });
    onTestFinished(() => {
      limited.remove();
    });
    const exit = await bicorn.exited;
    expect(exit.code).toBe(2);
    expect(bicorn.stderr).toMatch(/workers: 100000 is more than this machine can run: 100000 workers need about \d+ processes and threads, and pids\.max of cgroup \S+ leaves \d+; choose fewer with -w/);
  });
});

describe('a master asked to stop while its workers boot', () => {
  it.skipIf(!hasPython)('stops at once, however slow the boot', async () => {
    const bicorn = servePython('slow_boot_wsgi:application', ['-w', '4', '--graceful-timeout', '30']);
    await bicorn.waitForLog('the master to start', (l) => l.msg === 'starting');
    expect((await bicorn.stop()).code).toBe(0);
    // Booting workers have nothing to drain: SIGTERM ends them, not the graceful timeout.
    const stopped = bicorn.lines.filter((l) => l.msg === 'worker stopped');
    expect(stopped.map((l) => [l.reason, l.signal])).toEqual(Array(4).fill(['shutdown', 'SIGTERM']));
    expect(bicorn.lines.filter((l) => l.msg === 'worker still busy at the stop deadline; killing it')).toEqual([]);
  });
});

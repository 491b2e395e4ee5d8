import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from '../support/bicorn-process.js';
import { get } from '../support/http.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

/** Sets the soft descriptor limit of a process, leaving the hard one. */
function setFileLimit(pid: number, soft: number | 'hard'): void {
  const hard = spawnSync('prlimit', ['--pid', String(pid), '--nofile', '--output', 'HARD', '--noheadings']).stdout.toString().trim();
  const done = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${soft === 'hard' ? hard : String(soft)}:${hard}`]);
  if (done.status !== 0) throw new Error(`prlimit failed: ${done.stderr.toString()}`);
}

/** The lowest descriptor number a process does not use: a soft limit there leaves it none. */
function firstFreeDescriptor(pid: number): number {
  const used = new Set(readdirSync(`/proc/${String(pid)}/fd`).map(Number));
  let fd = 0;
  while (used.has(fd)) fd++;
  return fd;
}

describe('a master out of file descriptors', () => {
  it.skipIf(!hasPrlimit)('logs it, keeps listening, and serves again once descriptors free up', async () => {
    const bicorn = new BicornProcess(['-w', '1', '-b', '127.0.0.1:0', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    setFileLimit(bicorn.pid, firstFreeDescriptor(bicorn.pid));
    // The connection is accepted and closed at once: libuv's answer to EMFILE.
    await expect(get(`${url}/`)).rejects.toThrow();
    const out = await bicorn.waitForLog('the master to see it is out of descriptors', (l) => l.msg.startsWith('the master is out of file descriptors'));
    expect(out).toMatchObject({ level: 50, hint: expect.stringContaining('ulimit -n') as unknown });
    setFileLimit(bicorn.pid, 'hard');
    await bicorn.waitForLog('the master to have descriptors again', (l) => l.msg === 'the master has file descriptors again');
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

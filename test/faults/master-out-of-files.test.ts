import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from '../support/bicorn-process.js';
import { get } from '../support/http.js';
import { pollUntil } from '../support/poll.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

/** Sets the soft descriptor limit of a process, leaving the hard one. */
function setFileLimit(pid: number, soft: number | 'hard'): void {
  const hard = spawnSync('prlimit', ['--pid', String(pid), '--nofile', '--output', 'HARD', '--noheadings']).stdout.toString().trim();
  const done = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${soft === 'hard' ? hard : String(soft)}:${hard}`]);
  if (done.status !== 0) throw new Error(`prlimit failed: ${done.stderr.toString()}`);
}

/** A GET's outcome, its status or 'cut', once it has one; a wait on it fails naming bicorn's last log lines. */
function outcome(bicorn: BicornProcess, url: string, what: string): Promise<string> {
  let settled: string | undefined;
  get(url).then(
    (answer) => (settled = String(answer.status)),
    () => (settled = 'cut'),
  );
  const lastLines = (): string => `${what} (bicorn's last lines: ${bicorn.lines.slice(-8).map((l) => l.msg).join(' | ')})`;
  return pollUntil(lastLines, () => settled, 20_000);
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
    // Accepted and closed at once (libuv's answer to EMFILE), or, should libuv have no descriptor
    // in reserve for that, left in the backlog until descriptors free up, then served.
    const during = outcome(bicorn, `${url}/`, 'the request made while out of descriptors');
    const out = await bicorn.waitForLog('the master to see it is out of descriptors', (l) => l.msg.startsWith('the master is out of file descriptors'));
    expect(out).toMatchObject({ level: 50, hint: expect.stringContaining('ulimit -n') as unknown });
    setFileLimit(bicorn.pid, 'hard');
    await bicorn.waitForLog('the master to have descriptors again', (l) => l.msg === 'the master has file descriptors again');
    expect(['cut', '200']).toContain(await during);
    expect(await outcome(bicorn, `${url}/`, 'a request once descriptors are back')).toBe('200');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

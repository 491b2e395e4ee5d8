// --daemon (-D) under a forking launcher, as systemd's Type=forking runs it: the command returns
// once the detached master serves, its pid file naming that master; or with the master's exit
// code and message when it cannot start.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');
// A launcher that forks bicorn and waits for it, as systemd's ExecStart= of a Type=forking unit.
const FORKING_LAUNCHER = ['sh', '-c', '"$0" "$@"; status=$?; echo "launcher: bicorn returned $status"; exit $status'];

const daemons: number[] = [];
afterEach(() => {
  for (const pid of daemons.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Stopped by the test.
    }
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The session a process leads or belongs to (field 6 of /proc/PID/stat). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

describe('--daemon', () => {
  it('returns once the detached master serves, with the pid file naming it, for Type=forking', async () => {
    const dir = tempDir('bicorn-daemon-');
    const pidFile = join(dir, 'bicorn.pid');
    const errorLog = join(dir, 'error.log');
    const launcher = new BicornProcess(['-D', '-p', pidFile, '--error-logfile', errorLog, '-b', '127.0.0.1:0', APP], { launcher: FORKING_LAUNCHER });
    const { code } = await launcher.exited;
    expect(launcher.stdout).toBe('launcher: bicorn returned 0\n');
    expect(code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    daemons.push(pid);
    expect(alive(pid)).toBe(true);
    // Detached: a session of its own, so the launcher's exit and its terminal do not touch it.
    expect(sessionOf(pid)).toBe(pid);
    const listening = readFileSync(errorLog, 'utf8').split('\n').find((line) => line.includes('"msg":"listening"'));
    const [address] = (JSON.parse(listening ?? '{}') as { addresses?: string[] }).addresses ?? [];
    expect((await get(`http://${address ?? ''}/`)).status).toBe(200);
    process.kill(pid, 'SIGTERM');
    await pollUntil('the detached master to stop and remove its pid file', () => (alive(pid) || existsSync(pidFile) ? undefined : true), 30_000);
  });

  it('exits with the master\'s code and message when it cannot start', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const dir = tempDir('bicorn-daemon-');
      const launcher = new BicornProcess(['-D', '--error-logfile', join(dir, 'error.log'), '-b', `127.0.0.1:${String(port)}`, APP], { launcher: FORKING_LAUNCHER });
      const { code } = await launcher.exited;
      expect(code).toBe(2);
      expect(launcher.stderr).toContain(`bicorn: error: cannot bind 127.0.0.1:${String(port)}: the address is already in use`);
    } finally {
      taken.close();
    }
  });
});

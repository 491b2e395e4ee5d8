// The pid file (-p/--pid): checked before anything is bound, written once the master is
// ready, removed on exit. A file that names a live process means another master runs there.
import { BicornError } from '@bicorn/protocol';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Refuses to start when the file names a running process other than this one. */
export function checkPidFile(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new BicornError('PID_FILE_FAILED', { path, reason: (error as Error).message });
  }
  const pid = Number(text.trim());
  // Unreadable content, or our own pid (a container restarted as pid 1): stale.
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return;
  if (isAlive(pid)) throw new BicornError('PID_FILE_TAKEN', { path, pid });
}

export function writePidFile(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    // Written aside and renamed, so that a reader never sees a half-written number.
    const partial = `${path}.${String(process.pid)}.tmp`;
    writeFileSync(partial, `${String(process.pid)}\n`);
    renameSync(partial, path);
  } catch (error) {
    throw new BicornError('PID_FILE_FAILED', { path, reason: (error as Error).message });
  }
}

/** Removes the file if it still names this process. */
export function removePidFile(path: string): void {
  try {
    if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path);
  } catch {
    // Already gone: nothing to clean up.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Where log lines go: stdout for "-", else a file opened for appending. Used by master and workers.
import { BicornError } from '@bicorn/protocol';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

export type LogFormatSetting = 'auto' | 'json' | 'pretty';

export interface Destination {
  readonly stream: pino.DestinationStream;
  readonly pretty: boolean;
  /** Writes what is buffered; call before the process exits. */
  readonly flush: () => void;
  /** Opens the file again by its path, after logrotate moved it away (SIGUSR1); stdout stays. */
  readonly reopen: () => void;
}

export interface DestinationOptions {
  /** The setting that names the target, for errors: `error_log`. */
  readonly setting: string;
  readonly format: LogFormatSetting;
  /**
   * Synchronous writes put each line in the pipe or file before the call returns, so nothing
   * is lost at exit; asynchronous ones keep the event loop free, for lines written per request.
   */
  readonly sync: boolean;
}

export function openDestination(target: string, options: DestinationOptions): Destination {
  const toStdout = target === '-';
  // Checked here for a readable error; then opened by path, so that reopen() can open it again.
  if (!toStdout) checkLogFile(target, options.setting);
  // mkdir: a reopen makes the directory again if logrotate (or a person) removed it.
  const boom = pino.destination({ dest: toStdout ? 1 : target, sync: options.sync, append: true, mkdir: true });
  const pretty = options.format === 'pretty' || (options.format === 'auto' && toStdout && process.stdout.isTTY);
  // A failed write (ENOSPC, EPIPE) or reopen (the directory cannot be made again) must not take
  // the process down; after a failed reopen, lines go on to the file that was open.
  boom.on('error', (error: Error) => {
    process.stderr.write(`bicorn: cannot write to or reopen ${target} for ${options.setting}: ${error.message}\n`);
  });
  return {
    stream: boom,
    pretty,
    reopen: () => {
      if (!toStdout) boom.reopen(target);
    },
    flush: () => {
      try {
        boom.flushSync();
      } catch {
        // Nothing was buffered, or the destination is gone: nothing left to save.
      }
    },
  };
}

/**
 * Fails early, with a readable error, when a log file cannot be opened; for the master.
 * Returns the first directory it had to create, if any (to hand over with the file).
 */
export function checkLogFile(target: string | null, setting: string): string | undefined {
  if (target === null || target === '-') return undefined;
  const { fd, createdDir } = openLogFile(target, setting);
  closeSync(fd);
  return createdDir;
}

function openLogFile(path: string, setting: string): { fd: number; createdDir: string | undefined } {
  try {
    const createdDir = mkdirSync(dirname(path), { recursive: true });
    return { fd: openSync(path, 'a'), createdDir };
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new BicornError('LOG_OPEN_FAILED', { setting, path, reason: code === undefined ? message : describeErrno(code) });
  }
}

function describeErrno(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return code;
  }
}

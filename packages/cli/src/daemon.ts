// --daemon: Node.js cannot fork, so bicorn starts itself again, detached (a new session, stdio on
// /dev/null), with a readiness pipe on fd 3, and the command returns once that copy serves: exit
// 0 after its pid file is written (systemd's Type=forking reads PIDFile= then), or the copy's exit
// code and message when it cannot start. Runs in the CLI, on both sides of the pipe.
import { ExitCode, isExitCode } from '@bicorn/protocol';
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';

/** Set in the detached copy's environment: the number of its readiness pipe. */
const READINESS_VARIABLE = '_BICORN_DAEMON_FD';
const READINESS_FD = 3;

export interface DaemonOptions {
  /** bicorn's arguments, as the command got them. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stderr: (text: string) => void;
}

/** In the command: starts the detached copy and waits until it serves, or fails. */
export function daemonize(options: DaemonOptions): Promise<ExitCode> {
  const script = process.argv[1] ?? '';
  const child = spawn(process.execPath, [...process.execArgv, '--', script, ...options.argv], {
    cwd: options.cwd,
    env: { ...options.env, [READINESS_VARIABLE]: String(READINESS_FD) },
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const pipe = child.stdio[READINESS_FD] as Socket;
  return new Promise((resolve) => {
    let failure = '';
    const lines = createInterface({ input: pipe, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line === 'ready') {
        // The copy lives on by itself: nothing here may keep this process waiting for it.
        lines.close();
        pipe.destroy();
        child.unref();
        resolve(ExitCode.Ok);
      } else {
        failure += `${line}\n`;
      }
    });
    // 'close': after the pipe's last line, so that a failure's message is all read.
    child.once('close', (code, signal) => {
      if (failure === '') failure = `bicorn: error: the detached bicorn ${signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`} before it served; see its error log\n`;
      options.stderr(failure);
      resolve(isExitCode(code) && code !== ExitCode.Ok ? code : ExitCode.RuntimeFailure);
    });
  });
}

export interface Readiness {
  /** The master serves and its pid file is written: the command that started it returns 0. */
  ready(): void;
  /** The master cannot start: the command prints this and returns its exit code. */
  failed(message: string): void;
}

/** In the detached copy: its readiness pipe, taken from the environment so that no worker inherits it. */
export function takeReadiness(env: Record<string, string | undefined>): Readiness | undefined {
  const fd = env[READINESS_VARIABLE];
  if (fd === undefined) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a variable of ours, named once
  delete env[READINESS_VARIABLE];
  let open = true;
  const finish = (text: string): void => {
    if (!open) return;
    open = false;
    try {
      writeSync(Number(fd), text);
      closeSync(Number(fd));
    } catch {
      // The command that waited is gone: no one is left to tell.
    }
  };
  return { ready: () => { finish('ready\n'); }, failed: (message) => { finish(message.endsWith('\n') ? message : `${message}\n`); } };
}

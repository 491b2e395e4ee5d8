// Reading a gunicorn config file (gunicorn.conf.py, python:module): the runner runs it in the
// app's interpreter (`run.py --read-config`), so computed values work, and prints its plain
// values, the hooks it defines and the names it binds to other objects. Runs in the CLI.
import { BicornError } from '@bicorn/protocol';
import { spawnSync } from 'node:child_process';
import type { Interpreter } from './interpreter.js';
import { RUNNER } from './runner-process.js';

export interface GunicornConfigOptions {
  readonly interpreter: Interpreter;
  /** A path (relative to cwd), `file:PATH` or `python:MODULE`. */
  readonly location: string;
  /** How messages name it. */
  readonly label: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface GunicornConfig {
  /** Plain values (JSON's types), by gunicorn's names. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The server hooks the file defines. */
  readonly hooks: readonly string[];
  /** Names bound to objects that are neither plain values, modules nor functions: what each is. */
  readonly unusable: Readonly<Record<string, string>>;
}

/** Throws CONFIG_FILE_FAILED (exit 2) with the file's traceback when it cannot be run. */
export function readGunicornConfig(options: GunicornConfigOptions): GunicornConfig {
  const result = spawnSync(options.interpreter.path, [RUNNER, '--read-config', options.location], { cwd: options.cwd, env: { ...options.env }, encoding: 'utf8' });
  if (result.error !== undefined) throw new BicornError('PYTHON_NOT_FOUND', { tried: options.interpreter.path, reason: result.error.message });
  if (result.status !== 0) {
    const reason = result.status === null ? `the Python process running it was killed by ${String(result.signal)}` : `it failed when Python (${options.interpreter.path}) ran it:\n${result.stderr.trimEnd()}\n`;
    throw new BicornError('CONFIG_FILE_FAILED', { file: options.label, reason });
  }
  // Our own runner wrote it; its shape is trusted.
  return JSON.parse(result.stdout) as GunicornConfig;
}

// `bicorn check --load-app` and `--check-config` for a Python app: the runner loads it once in a
// helper process (`run.py --check`), as a worker's would, and says which interface it speaks;
// nothing is served. Runs in the CLI.
import { BicornError, ExitCode } from '@bicorn/protocol';
import { spawnSync } from 'node:child_process';
import type { Interpreter } from './interpreter.js';
import { RUNNER } from './runner-process.js';

export interface PythonAppCheckOptions {
  readonly interpreter: Interpreter;
  readonly app: string;
  readonly interface: 'auto' | 'wsgi' | 'asgi';
  readonly factory: boolean;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface PythonAppCheck {
  readonly interface: string;
  /** What the runner said while loading, such as a factory called without --factory. */
  readonly warnings: readonly string[];
}

/** Throws PYTHON_APP_FAILED (exit 4, or 2 for a malformed app spec) with the app's own traceback. */
export function checkPythonApp(options: PythonAppCheckOptions): PythonAppCheck {
  const args = [RUNNER, '--check', '--app', options.app, '--interface', options.interface];
  if (options.factory) args.push('--factory');
  const result = spawnSync(options.interpreter.path, args, { cwd: options.cwd, env: options.env, encoding: 'utf8' });
  if (result.error !== undefined) throw new BicornError('PYTHON_NOT_FOUND', { tried: options.interpreter.path, reason: result.error.message });
  if (result.status !== 0) {
    const exitCode = result.status === ExitCode.Usage ? ExitCode.Usage : ExitCode.AppLoad;
    const how = result.status === null ? `the Python process was killed by ${String(result.signal)}` : result.stderr;
    throw new BicornError('PYTHON_APP_FAILED', { app: options.app, exitCode, message: how });
  }
  return { interface: result.stdout.trim(), warnings: result.stderr.split('\n').filter((line) => line.trim() !== '') };
}

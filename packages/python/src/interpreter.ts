// Finding the Python interpreter for the app: --python, else $VIRTUAL_ENV/bin/python, else
// python3 on PATH; it must run and be 3.9 or newer. Runs in the worker at boot.
import { BicornError } from '@bicorn/protocol';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface Interpreter {
  readonly path: string;
  readonly version: string;
}

const MINIMUM: readonly [number, number] = [3, 9];
/** A cold interpreter on a loaded host (a reload starting every worker at once) can take seconds. */
const PROBE_TIMEOUT_MS = 30_000;

export function findInterpreter(configured: string | null, env: Readonly<Record<string, string | undefined>>): Interpreter {
  const candidate = configured ?? (env.VIRTUAL_ENV === undefined ? 'python3' : join(env.VIRTUAL_ENV, 'bin', 'python'));
  const tried = configured !== null ? `--python ${configured}` : env.VIRTUAL_ENV === undefined ? 'python3 on PATH' : `$VIRTUAL_ENV/bin/python (${candidate})`;
  const probe = spawnSync(candidate, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8', env: { ...env }, timeout: PROBE_TIMEOUT_MS });
  if (probe.error !== undefined || probe.status !== 0) {
    const reason = probe.error === undefined ? `it exited with code ${String(probe.status)}` : (probe.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : probe.error.message;
    throw new BicornError('PYTHON_NOT_FOUND', { tried, reason });
  }
  const version = probe.stdout.trim();
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
    throw new BicornError('PYTHON_NOT_FOUND', { tried, reason: `it is Python ${version}; bicorn needs ${MINIMUM.join('.')} or newer` });
  }
  return { path: candidate, version };
}

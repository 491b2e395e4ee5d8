// For the tests that start a real runner from this package's runner/ folder, on its own test
// apps (runner/tests): whether python3 can run it, and a runner of one thread started with it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findInterpreter, RunnerProcess, type HostLog } from '../src/index.js';

export const runnerDir = fileURLToPath(new URL('../runner/', import.meta.url));
export const hasPython = spawnSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 9)']).status === 0;

/** A runner of `app` (a module:name under runner/) on one thread, with the defaults' window, on asyncio, without lifespan. */
export function startRunner(app: string, iface: 'wsgi' | 'asgi', log: HostLog): Promise<RunnerProcess> {
  return RunnerProcess.start({
    interpreter: findInterpreter(null, {}),
    app,
    interface: iface,
    threads: 1,
    window: 1 << 20,
    multiprocess: false,
    loop: 'asyncio',
    lifespan: 'off',
    cwd: runnerDir,
    env: { PATH: process.env.PATH ?? '', PYTHONUNBUFFERED: '1' },
    log,
  });
}

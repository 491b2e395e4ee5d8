// For the Python end-to-end tests: whether this machine can run them (a python3 of 3.9 or
// newer on PATH), and bicorn serving an app from test/fixtures/python.
import { spawnSync } from 'node:child_process';
import { BicornProcess, fixture } from './bicorn-process.js';
import { skipped } from './skip.js';

export const hasPython = spawnSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 9)']).status === 0;

/** Append to the name of what skips without it, so that the summary says why. */
export const noPython = skipped(!hasPython, 'no python3 3.9 or newer on PATH');

export const pythonFixtures = fixture('python');

export function servePython(app: string, extra: readonly string[] = []): BicornProcess {
  return new BicornProcess(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, ...extra, app]);
}

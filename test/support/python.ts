// Whether this machine can run the Python tests: a python3 of 3.9 or newer on PATH.
import { spawnSync } from 'node:child_process';

export const hasPython = spawnSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 9)']).status === 0;

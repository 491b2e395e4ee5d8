// Where things are: the repository, the bench apps, the built bicorn binary, the peers' venv
// (<repo>/.venv from scripts/python-env.sh, or $BENCH_VENV) and the results folder.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const benchDir = fileURLToPath(new URL('.', import.meta.url));
export const repoRoot = join(benchDir, '..', '..');
export const appsDir = join(benchDir, 'apps');
export const resultsDir = join(benchDir, 'results');
export const bicornBin = join(repoRoot, 'packages', 'bicorn', 'bin', 'bicorn.js');
export const bicornDist = join(repoRoot, 'packages', 'bicorn', 'dist', 'bin.js');
export const venvBin = join(process.env.BENCH_VENV ?? join(repoRoot, '.venv'), 'bin');

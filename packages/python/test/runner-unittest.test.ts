import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runnerDir = fileURLToPath(new URL('../runner/', import.meta.url));
const vectors = fileURLToPath(import.meta.resolve('@bicorn/protocol/frames/vectors.json'));
const sendVectors = fileURLToPath(import.meta.resolve('@bicorn/protocol/send/send-vectors.json'));
// The runner supports 3.9 to 3.13: its tests run on python3 and on every such version that
// pyenv has installed (as on this project's machines).
const pyenvVersions = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions');
const candidates = ['python3', ...(existsSync(pyenvVersions) ? readdirSync(pyenvVersions).map((v) => join(pyenvVersions, v, 'bin', 'python3')) : [])];
const interpreters = candidates.filter(
  (python) => spawnSync(python, ['-c', 'import sys; assert (3, 9) <= sys.version_info < (3, 14)']).status === 0,
);
// The project's venv has uvloop, which the interpreters above lack: the loop tests run there too.
const venvPython = fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url));
const hasUvloop = spawnSync(venvPython, ['-c', 'import uvloop']).status === 0;

describe.skipIf(interpreters.length === 0)(`the runner's Python tests${interpreters.length === 0 ? ' (skipped: no Python 3.9 to 3.13 on PATH or in pyenv)' : ''}`, () => {
  it.each(interpreters)('pass on %s (python -m unittest in packages/python/runner)', (python) => {
    const run = spawnSync(python, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
      cwd: runnerDir,
      encoding: 'utf8',
      env: { ...process.env, BICORN_FRAME_VECTORS: vectors, BICORN_SEND_VECTORS: sendVectors },
      timeout: 120_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).toMatch(/\nOK/);
  });
});

describe("the runner's event loop tests", () => {
  it.skipIf(!hasUvloop)(`run the app on uvloop with .venv's python${hasUvloop ? '' : ' (skipped: no uvloop in .venv; run `pnpm python:setup`)'}`, () => {
    const run = spawnSync(venvPython, ['-m', 'unittest', '-v', '-k', 'loop', 'tests.test_runner_process'], { cwd: runnerDir, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    // Ran, not skipped: the venv's uvloop was found.
    expect(run.stderr).toMatch(/test_runs_the_app_on_uvloop\S* \(.*\) \.\.\. ok/);
  });
});

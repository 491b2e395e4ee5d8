import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runnerDir = fileURLToPath(new URL('../runner/', import.meta.url));
const vectors = fileURLToPath(import.meta.resolve('@bicorn/protocol/frames/vectors.json'));
const hasPython = spawnSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 9)']).status === 0;

describe.skipIf(!hasPython)("the runner's Python tests", () => {
  it('pass (python3 -m unittest in packages/python/runner)', () => {
    const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
      cwd: runnerDir,
      encoding: 'utf8',
      env: { ...process.env, BICORN_FRAME_VECTORS: vectors },
      timeout: 120_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).toMatch(/\nOK/);
  });
});

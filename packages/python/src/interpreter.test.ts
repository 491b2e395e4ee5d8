import { BicornError } from '@bicorn/protocol';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findInterpreter } from './interpreter.js';

const hasPython3 = spawnSync('python3', ['--version']).status === 0;

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof BicornError) return error.message;
    throw error;
  }
  throw new Error('expected a BicornError');
}

describe('findInterpreter', () => {
  it.skipIf(!hasPython3)(`takes python3 from PATH when nothing else is given${hasPython3 ? '' : ' (skipped: no python3 3.9 or newer on PATH)'}`, () => {
    expect(findInterpreter(null, { PATH: process.env.PATH })).toMatchObject({ path: 'python3', version: expect.stringMatching(/^3\.\d+\.\d+$/) as unknown });
  });

  it('prefers $VIRTUAL_ENV/bin/python and says so when it is missing', () => {
    expect(messageOf(() => findInterpreter(null, { PATH: process.env.PATH, VIRTUAL_ENV: '/no/venv' }))).toBe(
      'no usable Python interpreter: tried $VIRTUAL_ENV/bin/python (/no/venv/bin/python), not found; install Python 3.9 or newer, or name one with --python',
    );
  });

  it('prefers --python over $VIRTUAL_ENV', () => {
    expect(messageOf(() => findInterpreter('/no/python', { VIRTUAL_ENV: '/no/venv' }))).toMatch(/^no usable Python interpreter: tried --python \/no\/python, not found;/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appEnvironment, readEnvFile } from './environment.js';

function envFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bicorn-env-')), '.env');
  writeFileSync(path, text);
  return path;
}

describe('readEnvFile', () => {
  it('reads KEY=VALUE lines with export, quotes and comments', () => {
    const path = envFile('# a comment\n\nexport A=1\nB = "two words"\nC=\'single # not a comment\'\nD=plain # a comment\nE="line\\nbreak"\nF=\n');
    expect(readEnvFile(path)).toEqual({ A: '1', B: 'two words', C: 'single # not a comment', D: 'plain', E: 'line\nbreak', F: '' });
  });

  it('names the line that is not KEY=VALUE', () => {
    expect(() => readEnvFile(envFile('A=1\nnot a pair\n'))).toThrow(/line 2 is not KEY=VALUE/);
  });
});

describe('appEnvironment', () => {
  it('layers the worker environment, then the env file, then --env, and prepends --pythonpath', () => {
    const path = envFile('A=file\nB=file\n');
    const env = appEnvironment({ A: 'base', C: 'base', PYTHONPATH: '/existing' }, { env: ['B=flag', 'D=x=y'], envFile: path, pythonpath: ['lib', '/abs'], cwd: '/srv/app' });
    expect(env).toMatchObject({ A: 'file', B: 'flag', C: 'base', D: 'x=y', PYTHONPATH: '/srv/app/lib:/abs:/existing', PYTHONUNBUFFERED: '1' });
  });
});

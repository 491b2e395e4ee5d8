import { BicornError } from '@bicorn/protocol';
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCommandTypo, checkMissingValues, normaliseArgv } from './argv.js';
import { addSettingOptions } from './options.js';

function usage(run: () => void): string {
  try {
    run();
  } catch (error) {
    if (error instanceof BicornError) return error.message;
    throw error;
  }
  return '';
}

describe('a flag whose value may be left out (--proxy-protocol)', () => {
  it('takes the next argument only when it is one of its values', () => {
    expect(normaliseArgv(['--proxy-protocol', 'v2', 'main:app'])).toEqual(['--proxy-protocol', 'v2', 'main:app']);
    expect(normaliseArgv(['--proxy-protocol', 'main:app'])).toEqual(['--proxy-protocol=true', 'main:app']);
    expect(normaliseArgv(['--proxy-protocol', '-w', '2'])).toEqual(['--proxy-protocol=true', '-w', '2']);
    expect(normaliseArgv(['--proxy-protocol'])).toEqual(['--proxy-protocol=true']);
    expect(normaliseArgv(['--proxy-protocol=v1', 'main:app'])).toEqual(['--proxy-protocol=v1', 'main:app']);
  });
});

describe("uvicorn's --ws-per-message-deflate BOOLEAN", () => {
  it('becomes the flag or its --no- form, whatever way the value is written', () => {
    expect(normaliseArgv(['--ws-per-message-deflate', 'false', 'main:app'])).toEqual(['--no-ws-per-message-deflate', 'main:app']);
    expect(normaliseArgv(['--ws-per-message-deflate=True', 'main:app'])).toEqual(['--ws-per-message-deflate', 'main:app']);
    expect(normaliseArgv(['--ws-per-message-deflate', '0'])).toEqual(['--no-ws-per-message-deflate']);
  });

  it("leaves bicorn's own form, the flag alone, as it is", () => {
    expect(normaliseArgv(['--ws-per-message-deflate', 'main:app'])).toEqual(['--ws-per-message-deflate', 'main:app']);
  });
});

describe('a value lost to an empty variable', () => {
  const command = new Command('serve');
  addSettingOptions(command);

  it('names the option that took the next option as its value', () => {
    expect(usage(() => checkMissingValues(['-w', '-b', '0.0.0.0:8000', 'app:app'], command))).toMatch(/^-w needs a value, but the next word is the option -b: is a variable empty, as in -w \$WORKERS\?/);
    expect(usage(() => checkMissingValues(['--bind', '--workers=2', 'app:app'], command))).toMatch(/^--bind needs a value, but the next word is the option --workers=2/);
  });

  it('takes a value that only looks like an option, and flags that take none', () => {
    expect(usage(() => checkMissingValues(['--reload', '-w', '2', '--root-path', '/api'], command))).toBe('');
    expect(usage(() => checkMissingValues(['--log-level', '-x'], command))).toBe('');
  });
});

describe('a mistyped sub-command', () => {
  const commands = ['serve', 'check', 'systemd', 'help'];

  it('is caught before it is taken for an app', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bicorn-argv-'));
    expect(usage(() => checkCommandTypo(['chek'], commands, cwd))).toMatch(/^unknown command 'chek'; did you mean 'check'\? \(to serve a Python module of that name, write bicorn serve chek\)/);
    expect(usage(() => checkCommandTypo(['sytemd', '--socket'], commands, cwd))).toMatch(/did you mean 'systemd'/);
  });

  it('leaves apps alone: specs, files, and modules or packages that exist', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bicorn-argv-'));
    writeFileSync(join(cwd, 'serv.py'), '');
    mkdirSync(join(cwd, 'chec'));
    for (const argv of [['serv'], ['chec'], ['server:app'], ['app.mjs'], ['-w', '2', 'chek'], ['check'], ['main']]) {
      expect(usage(() => checkCommandTypo(argv, commands, cwd))).toBe('');
    }
  });
});

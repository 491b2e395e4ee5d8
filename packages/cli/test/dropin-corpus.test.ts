// The corpus (test/fixtures/dropin/corpus.json): real gunicorn and uvicorn command lines, each
// run as `bicorn check` with the binary renamed, and checked flag by flag against what the
// settings and the drop-in rules say it means: every flag is either in the setting it sets
// (with itself as the source), or in a note saying it has no effect, or refused naming the issue
// that brings it. Nothing may be silently different. test/dropin-corpus.test.ts serves a sample.
import { settingKeys, settings, type Setting, type SettingKey } from '@bicorn/config';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { outcomeOf, ruleFor } from '../src/dropin-rules.js';
import { peerFlags } from '../src/peer-flags.js';
import { main } from '../src/main.js';
import { shellWords } from '../src/shell-words.js';

interface Line {
  readonly source: string;
  readonly where: string;
  readonly line?: string;
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

interface Corpus {
  readonly lines: readonly Line[];
  readonly refused: readonly (Line & { readonly refusal: string })[];
  readonly configFiles: readonly { readonly source: string; readonly content: string }[];
}

const corpus = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/fixtures/dropin/corpus.json', import.meta.url)), 'utf8')) as Corpus;

const scratch = mkdtempSync(join(tmpdir(), 'bicorn-corpus-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

// gunicorn and uvicorn on the PATH of the shell lines: they write down how they were called.
const shims = join(scratch, 'bin');
spawnSync('mkdir', ['-p', shims]);
for (const tool of ['gunicorn', 'uvicorn']) {
  const shim = join(shims, tool);
  writeFileSync(shim, '#!/bin/sh\nprintf \'%s\\0\' "$@" > "$CORPUS_OUT/args"\nenv -0 > "$CORPUS_OUT/env"\n');
  chmodSync(shim, 0o755);
}

/** The variables bicorn reads besides its own. */
const PEER_VARIABLES = /^(GUNICORN_CMD_ARGS|UVICORN_\w+|PORT|WEB_CONCURRENCY|FORWARDED_ALLOW_IPS)$/;

/**
 * The rewrite docs/dropin.md gives: the tool by any path, and `python -m gunicorn|uvicorn`,
 * become the binary (here the shim of the same name).
 */
function asBicorn(line: string): string {
  return line.replace(/(^|[\s;&|(])(?:\S*\/)?(?:python[\d.]*\s+-m\s+)?(gunicorn|uvicorn)(?=\s|$)/g, '$1$2');
}

/** How a line calls the tool: its arguments and the variables bicorn would see. */
function invocation(entry: Line, dir: string): { args: string[]; env: Record<string, string> } {
  const peerEnv = (env: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(env).filter(([name]) => PEER_VARIABLES.test(name)));
  if (entry.argv !== undefined) return { args: entry.argv.slice(1), env: peerEnv(entry.env ?? {}) };
  const shell = spawnSync('sh', ['-c', asBicorn(entry.line ?? '')], { cwd: dir, env: { PATH: `${shims}:${process.env.PATH ?? ''}`, CORPUS_OUT: dir, ...entry.env }, encoding: 'utf8' });
  expect(shell.status, `the shell line ran the tool: ${shell.stderr}`).toBe(0);
  const words = (file: string) => readFileSync(join(dir, file), 'utf8').split('\0').slice(0, -1);
  const env = Object.fromEntries(words('env').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  return { args: words('args'), env: peerEnv(env) };
}

async function check(args: readonly string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['check', ...args], {
    version: '0.0.0',
    workerEntry: '/nonexistent',
    env,
    cwd,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

const declared = (key: SettingKey): Setting<unknown, unknown> => settings[key];
const settingOf = (flag: string): SettingKey | undefined => settingKeys.find((key) => declared(key).flags.includes(flag));

/** Whether a flag takes the next word as its value, on bicorn's command line. */
function takesValue(flag: string): boolean {
  const key = settingOf(flag);
  if (key !== undefined) return declared(key).type.placeholder !== '';
  const rule = ruleFor(flag);
  if (rule?.kind === 'rule') return rule.takes === 'value';
  return rule?.kind === 'by-value' || ['--host', '--port', '--uds', '--fd', '-c', '--config'].includes(flag);
}

interface Given {
  readonly flag: string;
  readonly value: string | undefined;
  /** How bicorn check names the source: `--workers`, `GUNICORN_CMD_ARGS (--workers)`. */
  readonly label: (long: string) => string;
}

function flagsOf(args: readonly string[], label: (long: string) => string): Given[] {
  const given: Given[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('-') || arg === '-') continue;
    const long = arg.startsWith('--');
    const flag = long ? (arg.split('=')[0] ?? arg) : arg.slice(0, 2);
    const inline = long ? (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined) : arg.length > 2 ? arg.slice(2) : undefined;
    const value = inline ?? (takesValue(flag) ? args[++i] : undefined);
    given.push({ flag, value, label });
  }
  return given;
}

/** What bicorn check must show for a command line: rows, notes and refusals. */
interface Expected {
  readonly sources: Map<SettingKey, Set<string>>;
  readonly notes: string[];
  readonly refusals: string[];
}

function expectations(given: readonly Given[]): Expected {
  const expected: Expected = { sources: new Map(), notes: [], refusals: [] };
  const shows = (key: SettingKey, source: string) => expected.sources.set(key, new Set([...(expected.sources.get(key) ?? []), source]));
  for (const { flag, value, label } of given) {
    const key = settingOf(flag);
    if (key !== undefined) {
      const { flags } = declared(key);
      shows(key, label(flag.startsWith('--') ? flag : (flags.find((f) => f.startsWith('--')) ?? flag)));
      continue;
    }
    const rule = ruleFor(flag);
    expect(rule, `${flag} has a meaning in bicorn`).toBeDefined();
    if (rule === undefined) continue;
    if (rule.kind === 'cli') {
      if (rule.feeds !== undefined && !(rule.feeds === 'access_log' && given.some((g) => g.flag === '--access-logfile'))) shows(rule.feeds, label(flag));
      continue;
    }
    const outcome = outcomeOf(rule, value);
    const long = rule.flags.find((f) => f.startsWith('--')) ?? flag;
    switch (outcome.kind) {
      case 'same':
        break;
      case 'sets':
        if (!given.some((g) => settingOf(g.flag) === outcome.key)) shows(outcome.key, label(long));
        break;
      case 'ignored':
        expected.notes.push(long);
        break;
      case 'refused':
        expected.refusals.push(long);
        break;
    }
  }
  return expected;
}

/** bicorn check's rows: setting → its source. */
function sources(stdout: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^ {2}(\w+) +.+? {2,}(\S.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2]);
  }
  return rows;
}

function runs(entry: Line): string {
  return entry.argv?.join(' ') ?? entry.line ?? '';
}

describe('the corpus of real command lines', () => {
  it('has at least 60 lines and a few gunicorn.conf.py files, each with its source', () => {
    expect(corpus.lines.length).toBeGreaterThanOrEqual(60);
    expect(corpus.configFiles.length).toBeGreaterThanOrEqual(3);
    for (const entry of [...corpus.lines, ...corpus.refused, ...corpus.configFiles]) expect(entry.source).toMatch(/^https?:\/\//);
  });

  it.each(corpus.lines.map((entry, index) => ({ ...entry, name: `${String(index + 1)}: ${runs(entry)}` })))('$name', async (entry) => {
    const dir = mkdtempSync(join(scratch, 'line-'));
    const { args, env } = invocation(entry, dir);
    const cmdArgs = env.GUNICORN_CMD_ARGS === undefined ? [] : shellWords(env.GUNICORN_CMD_ARGS);
    const given = [...flagsOf(args, (long) => long), ...flagsOf(cmdArgs, (long) => `GUNICORN_CMD_ARGS (${long})`)];
    const expected = expectations(given);
    // A config file the line names is the project's; here it is an empty one where it can be.
    const named = given.find((g) => g.flag === '-c' || g.flag === '--config')?.value;
    if (named !== undefined && !isAbsolute(named)) writeFileSync(join(dir, named), '# the config file this line names, empty here\n');
    const result = await check(args, env, dir);
    if (named !== undefined && isAbsolute(named)) {
      expect(result.stderr).toContain(`no such file: ${named}`);
      return;
    }
    expect(expected.refusals, 'a corpus line is one bicorn accepts').toEqual([]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = sources(result.stdout);
    for (const [key, labels] of expected.sources) expect([...labels].some((label) => rows.get(key)?.includes(label)), `${key} comes from ${[...labels].join(' or ')}, not ${rows.get(key) ?? 'nothing'}`).toBe(true);
    for (const flag of expected.notes) expect(result.stdout).toMatch(new RegExp(`\\nnote: (GUNICORN_CMD_ARGS: )?${flag}[ =][^\\n]*has no effect: `));
  });

  it.each(corpus.refused.map((entry) => ({ ...entry, name: runs(entry) })))('refuses, saying why: $name', async (entry) => {
    const dir = mkdtempSync(join(scratch, 'refused-'));
    const { args, env } = invocation(entry, dir);
    const result = await check(args, env, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(entry.refusal);
  });

  it.each(corpus.configFiles.map((file) => ({ ...file, name: file.source })))('gunicorn.conf.py from $name: read with -c and from the working directory, each name as its flag', async (file) => {
    const dir = mkdtempSync(join(scratch, 'conf-'));
    writeFileSync(join(dir, 'gunicorn.conf.py'), file.content);
    for (const args of [['-c', 'gunicorn.conf.py', 'app:app'], ['app:app']]) {
      const result = await check(args, {}, dir);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const rows = sources(result.stdout);
      // Every plain assignment of a gunicorn name that sets a setting is that setting, from the file.
      for (const [, name] of file.content.matchAll(/^(\w+)\s*=/gm)) {
        const flags = peerFlags().gunicorn.settings.find((s) => s.name === name)?.flags ?? [];
        const key = flags.map(settingOf).find((k) => k !== undefined);
        if (key !== undefined) expect(rows.get(key), `${name ?? ''} as ${key}`).toBe('gunicorn.conf.py');
        else if (flags.length === 0 && name !== undefined) expect(result.stdout, `${name} is not gunicorn's: a warning`).toContain(`unknown setting ${name} `);
      }
    }
  });
});

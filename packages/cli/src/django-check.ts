// Django's own deployment checklist for `bicorn check --deploy`: `manage.py check --deploy
// --fail-level WARNING`, run by the app's interpreter in the app's environment, as a worker would
// run the app (never in the master), and its report read back issue by issue; then where the
// project's collected static files are (STATIC_ROOT, STATIC_URL), for the static-files point.
import { appKind, type Config, type Env } from '@bicorn/config';
import { isBicornError } from '@bicorn/protocol';
import { appEnvironment, findInterpreter } from '@bicorn/python/setup';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type DjangoLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug';

export interface DjangoIssue {
  readonly level: DjangoLevel;
  /** Django's check id, such as security.W004. */
  readonly id: string;
  /** What the issue is about (`?:` for the project as a whole). */
  readonly object: string;
  readonly message: string;
  readonly hint: string | undefined;
}

export type DjangoFacts =
  /** Nothing here looks like a Django project. */
  | { readonly kind: 'not-django' }
  /** The app looks like a Django project's, but there is no manage.py in its directory here. */
  | { readonly kind: 'absent'; readonly reason: string }
  | { readonly kind: 'checked'; readonly issues: readonly DjangoIssue[]; readonly statics: DjangoStatics | undefined }
  /** manage.py could not run its checks: the settings fail to import, no interpreter. */
  | { readonly kind: 'failed'; readonly reason: string };

/** Where collectstatic writes and the URL the pages link to; undefined when the settings could not say. */
export interface DjangoStatics {
  /** The project's directory, which static mounts are relative to (chdir). */
  readonly appDir: string;
  /** STATIC_ROOT as an absolute path, and whether it exists here; null when unset. */
  readonly root: { readonly path: string; readonly exists: boolean } | null;
  readonly url: string | null;
}

/** Long enough for a large project's imports on a busy machine. */
const CHECK_TIMEOUT_MS = 120_000;

export function runDjangoCheck(config: Config, env: Env, cwd: string): DjangoFacts {
  if (config.app === null || appKind(config.app) !== 'python') return { kind: 'not-django' };
  const appDir = resolve(cwd, config.chdir ?? '.');
  const manage = join(appDir, 'manage.py');
  if (!existsSync(manage)) return looksLikeDjango(config) ? { kind: 'absent', reason: `no manage.py in ${appDir}` } : { kind: 'not-django' };
  let python: string;
  let appEnv: Record<string, string>;
  try {
    python = findInterpreter(config.python, env).path;
    appEnv = appEnvironment(env, { env: config.env, envFile: config.env_file, pythonpath: config.pythonpath, cwd: appDir });
  } catch (error) {
    if (isBicornError(error)) return { kind: 'failed', reason: error.message };
    throw error;
  }
  const run = spawnSync(python, [manage, 'check', '--deploy', '--fail-level', 'WARNING', '--no-color'], { cwd: appDir, env: appEnv, encoding: 'utf8', timeout: CHECK_TIMEOUT_MS });
  if (run.error !== undefined) return { kind: 'failed', reason: `${python} ${manage} check: ${run.error.message}` };
  const issues = parseDjangoCheck(`${run.stdout}\n${run.stderr}`);
  if (run.status !== 0 && issues.length === 0) {
    const lastLine = run.stderr.trim().split('\n').at(-1) ?? '';
    return { kind: 'failed', reason: `${manage} check exited with ${String(run.status ?? run.signal)}: ${lastLine}` };
  }
  return { kind: 'checked', issues, statics: readStatics(python, manage, appDir, appEnv) };
}

const STATICS_SCRIPT = 'import json; from django.conf import settings as s; print(json.dumps([None if s.STATIC_ROOT is None else str(s.STATIC_ROOT), s.STATIC_URL]))';

function readStatics(python: string, manage: string, appDir: string, appEnv: Record<string, string>): DjangoStatics | undefined {
  const run = spawnSync(python, [manage, 'shell', '--no-startup', '-c', STATICS_SCRIPT], { cwd: appDir, env: appEnv, encoding: 'utf8', timeout: CHECK_TIMEOUT_MS });
  if (run.status !== 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const [root, url] = parsed as unknown[];
  const path = typeof root === 'string' && root !== '' ? resolve(appDir, root) : null;
  return { appDir, root: path === null ? null : { path, exists: existsSync(path) }, url: typeof url === 'string' ? url : null };
}

/** A Django project's app (`mysite.wsgi:application`), or DJANGO_SETTINGS_MODULE in its environment. */
function looksLikeDjango(config: Config): boolean {
  return /\.[wa]sgi(?::application)?$/.test(config.app ?? '') || config.env.some((pair) => pair.startsWith('DJANGO_SETTINGS_MODULE='));
}

const sections: Readonly<Record<string, DjangoLevel>> = { CRITICALS: 'critical', ERRORS: 'error', WARNINGS: 'warning', INFOS: 'info', DEBUGS: 'debug' };

/**
 * Reads the report of `manage.py check`: sections (`WARNINGS:`) of issues, each
 * `object: (id) message`, perhaps on several lines, then perhaps a tab-indented `HINT: ...`.
 */
export function parseDjangoCheck(output: string): DjangoIssue[] {
  const issues: DjangoIssue[] = [];
  let level: DjangoLevel | undefined;
  let current: { level: DjangoLevel; id: string; object: string; message: string; hint: string | undefined } | undefined;
  const finish = () => {
    if (current !== undefined) issues.push({ ...current, message: current.message.trim() });
    current = undefined;
  };
  for (const line of output.split('\n')) {
    const section = /^([A-Z]+):$/.exec(line)?.[1];
    if (section !== undefined && sections[section] !== undefined) {
      finish();
      level = sections[section];
      continue;
    }
    if (level === undefined) continue;
    const issue = /^(.*?): \(([\w.]+)\) (.*)$/.exec(line);
    if (issue !== null) {
      finish();
      current = { level, object: issue[1] ?? '', id: issue[2] ?? '', message: issue[3] ?? '', hint: undefined };
    } else if (current !== undefined && line.startsWith('\tHINT: ')) {
      current.hint = line.slice('\tHINT: '.length).trim();
    } else if (line.trim() === '' || line.startsWith('System check identified')) {
      finish();
    } else if (current !== undefined) {
      if (current.hint === undefined) current.message += ` ${line.trim()}`;
      else current.hint += ` ${line.trim()}`;
    }
  }
  finish();
  return issues;
}

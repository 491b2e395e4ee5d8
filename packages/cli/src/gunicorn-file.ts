// gunicorn config files (gunicorn.conf.py, python:module) as bicorn's config-file layer. The app's
// Python runs the file (so `multiprocessing.cpu_count() * 2 + 1` and `os.environ['PORT']` work),
// and each plain value is read as the gunicorn flag of the same setting (peer-flags.json) would
// be on the command line, through bicorn's options and the drop-in rules: a name means in the
// file what its flag means on the command line. What only a file can give, server hooks among
// it, follows confOnlyRules; unknown names get a warning with the closest gunicorn name (gunicorn
// ignores them silently). Runs in the CLI.
import { closest, settingKeys, settings, type ConfigFile, type Env } from '@bicorn/config';
import { findInterpreter, readGunicornConfig } from '@bicorn/python/setup';
import { relative, resolve } from 'node:path';
import { confOnlyRules, describeOutcome, ruleFor, type ConfOnlyRule } from './dropin-rules.js';
import type { Note } from './options.js';
import { parse } from './peer-env.js';
import { peerFlags, type GunicornSetting } from './peer-flags.js';

export interface GunicornFile {
  /** Values by bicorn's setting keys, gunicorn_config among them, ranked as a config file. */
  readonly file: ConfigFile;
  readonly notes: readonly Note[];
  readonly problems: readonly string[];
  /** The server hooks the file defines that bicorn calls. */
  readonly hooks: readonly string[];
}

export interface GunicornFileOptions {
  readonly cwd: string;
  readonly env: Env;
  /** --python from the command line or BICORN_PYTHON: the file runs in the app's interpreter. */
  readonly python: string | null;
}

/** The file as gunicorn names it: a path, `file:PATH` or `python:MODULE`. */
export function readGunicornFile(location: string, options: GunicornFileOptions): GunicornFile {
  const isModule = location.startsWith('python:');
  const path = isModule ? undefined : resolve(options.cwd, location.replace(/^file:/, ''));
  const label = path === undefined ? location : relative(options.cwd, path) || path;
  const read = readGunicornConfig({ interpreter: findInterpreter(options.python, options.env), location: path ?? location, label, cwd: options.cwd, env: options.env });
  const byName = new Map(peerFlags().gunicorn.settings.map((s) => [s.name, s]));
  const notes: Note[] = [];
  const problems: string[] = [];
  const argv: string[] = [];
  const nameOf = new Map<string, string>();
  const values: Record<string, unknown> = { gunicorn_config: path ?? location };
  for (const [name, value] of Object.entries(read.settings)) {
    const known = byName.get(name);
    if (known === undefined) {
      const suggestion = closest(name, [...byName.keys()]);
      notes.push({ level: 'warn', text: `${label}: unknown setting ${name} (gunicorn ignores it)${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}` });
      continue;
    }
    const flag = known.flags.find((f) => f.startsWith('--'));
    if (flag === undefined) {
      confOnly(name, value, confOnlyRules[name], { label, values, notes, problems });
      continue;
    }
    const tokens = flagTokens(known, flag, value);
    if (tokens === undefined) notes.push({ level: 'warn', text: `${label}: ${name} = ${JSON.stringify(value)} is not a value gunicorn's ${flag} takes; ignored` });
    else argv.push(...tokens);
    nameOf.set(flag, name);
  }
  for (const [name, what] of Object.entries(read.unusable)) {
    if (byName.has(name)) notes.push({ level: 'warn', text: `${label}: ${name} is ${what}, which bicorn cannot use; ignored` });
  }
  const hooks = read.hooks.filter((name) => {
    const rule = confOnlyRules[name];
    if (rule?.kind === 'hook') return true;
    confOnly(name, undefined, rule, { label, values, notes, problems });
    return false;
  });
  const layer = parse(label, argv, () => ({ kind: 'file', file: label }), (flag) => `${label} (${nameOf.get(flag) ?? flag}): `);
  for (const [key, given] of Object.entries(layer.values)) values[key] = given.value;
  return {
    file: { path: path ?? location, label, values },
    notes: [...notes, ...layer.notes],
    problems: [...problems, ...layer.problems],
    hooks,
  };
}

/**
 * A gunicorn setting met in bicorn's own config file (`raw_env`, `pidfile`, or a flag's name
 * such as `log_file`): bicorn's key for it, or where bicorn reads it. Undefined for any other key.
 */
export function gunicornKeyHint(key: string): string | undefined {
  const setting = peerFlags().gunicorn.settings.find((s) => s.name === key || s.flags.includes(`--${key.replace(/_/g, '-')}`));
  if (setting === undefined) return undefined;
  if (confOnlyRules[setting.name]?.kind === 'app') return "that is gunicorn's name for bicorn's app";
  const flag = setting.flags.find((f) => f.startsWith('--'));
  if (flag === undefined) return 'that is a gunicorn setting, which bicorn reads from a gunicorn.conf.py (-c)';
  const target = settingKeys.find((k) => settings[k].flags.includes(flag));
  if (target !== undefined) return target === key ? undefined : `that is gunicorn's name for bicorn's ${target}`;
  const rule = ruleFor(flag);
  if (rule?.kind === 'rule' && rule.outcome.kind !== 'same' && rule.outcome.kind !== 'sets') return `that is gunicorn's ${flag}, and ${describeOutcome(flag, undefined, rule.outcome)}`;
  return `that is gunicorn's ${flag}, which bicorn reads on the command line or from a gunicorn.conf.py (-c)`;
}

/**
 * The command-line words of one setting: gunicorn's flag with the value as text. None for a
 * None (unset), a false switch, or the true of gunicorn's one inverted switch (sendfile).
 */
function flagTokens(setting: GunicornSetting, flag: string, value: unknown): string[] | undefined {
  if (value === null) return [];
  if (setting.takes === 'none') {
    if (typeof value !== 'boolean') return undefined;
    // --no-sendfile stores False: sendfile = False is the flag given.
    return value === (setting.name !== 'sendfile') ? [flag] : [];
  }
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  if (!items.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) return undefined;
  // umask = 0o22 is the number 18 to Python: given in octal, as the flag takes it.
  const text = (item: unknown): string => (setting.name === 'umask' && typeof item === 'number' ? `0o${item.toString(8)}` : String(item));
  // One `--flag=value` word each, so that a value such as "-" (stdout) is not read as a flag.
  if (setting.repeat) return items.map((item) => `${flag}=${text(item)}`);
  return [`${flag}=${items.map(text).join(',')}`];
}

interface ConfOnlyTarget {
  readonly label: string;
  readonly values: Record<string, unknown>;
  readonly notes: Note[];
  readonly problems: string[];
}

function confOnly(name: string, value: unknown, rule: ConfOnlyRule | undefined, target: ConfOnlyTarget): void {
  const { label } = target;
  switch (rule?.kind) {
    case undefined:
    case 'same':
    case 'hook':
      return;
    case 'app':
      if (typeof value === 'string') target.values.app = value;
      else target.notes.push({ level: 'warn', text: `${label}: wsgi_app must be a string such as "mysite.wsgi:application"; ignored` });
      return;
    case 'sets':
      target.values[rule.key] = rule.value;
      return;
    case 'setting':
      // None is gunicorn's unset: bicorn's default then.
      if (value !== null && value !== undefined) target.values[rule.key] = value;
      return;
    case 'ignored':
      target.notes.push({ level: 'info', text: `${label}: ${describeOutcome(name, undefined, rule)}` });
      return;
    case 'refused':
      target.problems.push(`${label}: ${describeOutcome(name, undefined, rule)}`);
      return;
  }
}

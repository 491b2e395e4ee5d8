// The command line before commander reads it: uvicorn's `--ws-per-message-deflate BOOLEAN`
// made bicorn's flag, a flag whose value went missing (`-w $WORKERS` with WORKERS empty) named
// as such, and a mistyped sub-command caught before it is taken for an app. Runs in the CLI.
import { closest, settings } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** click's words for a BOOLEAN value (uvicorn's flags and UVICORN_* variables). */
export function clickBoolean(raw: string): boolean | undefined {
  const word = raw.trim().toLowerCase();
  if (['1', 'true', 't', 'yes', 'y', 'on'].includes(word)) return true;
  if (['0', 'false', 'f', 'no', 'n', 'off'].includes(word)) return false;
  return undefined;
}

/** uvicorn flags that take a BOOLEAN value where bicorn has a flag and its --no- form. */
export const booleanValued = ['--ws-per-message-deflate'];

/**
 * Flags whose value may be left out (`--proxy-protocol [off|v1|v2|auto]`), with their words:
 * commander would take any next argument as the value, the app too.
 */
const optionalValued = new Map(
  Object.values(settings).flatMap(({ flags, type }) =>
    type.placeholder.startsWith('[') ? flags.filter((f) => f.startsWith('--')).map((f) => [f, type.placeholder.slice(1, -1).split('|')] as const) : [],
  ),
);

/**
 * Rewrites uvicorn's `--flag true|false` into bicorn's `--flag` or `--no-flag`, and gives a flag
 * whose value may be left out its bare meaning when the next argument is none of its words
 * (`--proxy-protocol app:app` serves app:app).
 */
export function normaliseArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [name, inline] = splitFlag(arg);
    const words = optionalValued.get(name);
    if (words !== undefined && inline === undefined) {
      const next = argv[i + 1];
      const takesNext = next !== undefined && (words.includes(next.toLowerCase()) || clickBoolean(next) !== undefined);
      out.push(takesNext ? arg : `${name}=true`);
      continue;
    }
    if (!booleanValued.includes(name)) {
      out.push(arg);
      continue;
    }
    const on = clickBoolean(inline ?? argv[i + 1] ?? '');
    if (inline !== undefined && on === undefined) {
      out.push(arg); // commander names the bad value
      continue;
    }
    if (inline === undefined && on !== undefined) i++;
    out.push(on === false ? `--no-${name.slice(2)}` : name);
  }
  return out;
}

/**
 * An option that needs a value followed by another option took that option as its value:
 * `-w -b 0.0.0.0:8000 app:app`, which a shell makes of `-w $WORKERS -b ...` with WORKERS empty.
 */
export function checkMissingValues(argv: readonly string[], command: Command): void {
  const options = command.options;
  const known = (arg: string): boolean => options.some((o) => o.short === arg || o.long === arg);
  for (let i = 0; i + 1 < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') return;
    const option = options.find((o) => o.short === arg || o.long === arg);
    const next = argv[i + 1] ?? '';
    if (option?.required === true && next.startsWith('-') && known(splitFlag(next)[0])) {
      throw new BicornError('USAGE', {
        message: `${arg} needs a value, but the next word is the option ${next}: is a variable empty, as in ${arg} $WORKERS? Give ${arg} a value, or leave it out`,
      });
    }
  }
}

/**
 * `bicorn chek` would serve a module named chek; a first word close to a sub-command, which
 * names no module or file here, is taken for a typo instead.
 */
export function checkCommandTypo(argv: readonly string[], commands: readonly string[], cwd: string): void {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || commands.includes(first) || /[.:/]/.test(first)) return;
  if (existsSync(join(cwd, `${first}.py`)) || existsSync(join(cwd, first))) return;
  const near = closest(first, commands);
  if (near === undefined) return;
  throw new BicornError('USAGE', { message: `unknown command '${first}'; did you mean '${near}'? (to serve a Python module of that name, write bicorn serve ${first})` });
}

function splitFlag(arg: string): [string, string | undefined] {
  const equals = arg.indexOf('=');
  return arg.startsWith('--') && equals !== -1 ? [arg.slice(0, equals), arg.slice(equals + 1)] : [arg, undefined];
}

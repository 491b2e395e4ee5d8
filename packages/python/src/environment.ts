// The environment of the Python app process: the worker's own, then --env-file, then --env,
// and --pythonpath prepended to PYTHONPATH. Values are never logged. Runs in the worker at boot.
import { BicornError } from '@bicorn/protocol';
import { readFileSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';

export interface EnvironmentOptions {
  readonly env: readonly string[];
  readonly envFile: string | null;
  readonly pythonpath: readonly string[];
  readonly cwd: string;
}

export function appEnvironment(base: Readonly<Record<string, string | undefined>>, options: EnvironmentOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  if (options.envFile !== null) Object.assign(env, readEnvFile(resolve(options.cwd, options.envFile)));
  for (const pair of options.env) {
    const equals = pair.indexOf('=');
    env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  const paths = options.pythonpath.map((dir) => resolve(options.cwd, dir));
  if (env.PYTHONPATH !== undefined && env.PYTHONPATH !== '') paths.push(env.PYTHONPATH);
  if (paths.length > 0) env.PYTHONPATH = paths.join(delimiter);
  // Lines the app prints reach the log as they are printed, not when a buffer fills.
  env.PYTHONUNBUFFERED = '1';
  return env;
}

/** Reads a dotenv file: KEY=VALUE lines, `export ` allowed, # comments, optional quotes. */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BicornError('ENV_FILE_FAILED', { file: path, reason: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message });
  }
  const values: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new BicornError('ENV_FILE_FAILED', { file: path, reason: `line ${String(index + 1)} is not KEY=VALUE` });
    const [, key = '', value = ''] = match;
    values[key] = unquote(value);
  }
  return values;
}

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
    const inner = value.slice(1, -1);
    return quote === '"' ? inner.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1') : inner;
  }
  // An unquoted value ends at a comment.
  return value.replace(/\s+#.*$/, '');
}

// Loading the config: gather each setting from CLI > BICORN_* > gunicorn's and uvicorn's
// environment > config file > default, validate everything once, report every problem at once,
// and freeze the result.
import { BicornError } from '@bicorn/protocol';
import { readConfigFile, type ConfigFile } from './file.js';
import {
  envNames,
  isSettingKey,
  settingKeys,
  settings,
  type Config,
  type Setting,
  type SettingKey,
} from './settings.js';
import { describeSource, type Source } from './sources.js';
import { closest } from './suggest.js';

/** Raw values from the command line, with the flag that gave each. */
export type CliValues = Partial<Record<SettingKey, { readonly value: unknown; readonly flag: string }>>;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Raw values that gunicorn's and uvicorn's environment gave (GUNICORN_CMD_ARGS, UVICORN_*, PORT),
 * read by the CLI, each with its source. They rank below BICORN_* and above the config file,
 * with WEB_CONCURRENCY and FORWARDED_ALLOW_IPS, which settings declare as their extra names.
 */
export type PeerValues = Partial<Record<SettingKey, { readonly value: unknown; readonly source: Source }>>;

export interface LoadedConfig {
  readonly config: Config;
  readonly sources: Readonly<Record<SettingKey, Source>>;
  readonly file: ConfigFile | undefined;
}

export interface LoadOptions {
  readonly cli: CliValues;
  readonly env: Env;
  readonly cwd: string;
  /** `-c FILE`; when absent the working directory is searched. */
  readonly configFile?: string | undefined;
  readonly peers?: PeerValues;
}

export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const file = await readConfigFile(options.cwd, options.configFile);
  return resolveConfig(options.cli, options.env, file, options.peers);
}

/**
 * What a config file's unknown key is elsewhere, when the caller knows (gunicorn's `raw_env` is
 * bicorn's `env`): the rest of its problem line, in place of "did you mean".
 */
export type KeyHint = (key: string) => string | undefined;

/** The pure part of loading: no I/O, so every rule is tested directly. */
export function resolveConfig(cli: CliValues, env: Env, file: ConfigFile | undefined, peers: PeerValues = {}, hint?: KeyHint): LoadedConfig {
  const problems = [...unknownFileKeys(file, hint), ...unknownEnvNames(env)];
  const values: Record<string, unknown> = {};
  const sources = {} as Record<SettingKey, Source>;
  for (const key of settingKeys) {
    const declared: Setting<unknown, unknown> = settings[key];
    const found = pick(key, cli, env, file, peers);
    sources[key] = found.source;
    if (found.source.kind === 'default') {
      values[key] = declared.default;
      continue;
    }
    const parsed = declared.type.parse(found.raw);
    if (!parsed.ok) {
      problems.push(`${key} (from ${describeSource(found.source)}): expected ${parsed.expected}, got ${show(found.raw)}`);
      continue;
    }
    values[key] = parsed.value;
  }
  if (problems.length === 0) problems.push(...tlsProblems(values, sources));
  if (problems.length > 0) throw new BicornError('CONFIG_INVALID', { problems });
  return {
    config: freeze(values) as Config,
    sources: Object.freeze(sources),
    file,
  };
}

/**
 * Rebuilds a Config sent by the master as plain data, checking it as strictly as at load.
 * Workers call this on their boot message.
 */
export function reviveConfig(data: Readonly<Record<string, unknown>>): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const key of settingKeys) {
    const declared: Setting<unknown, unknown> = settings[key];
    const parsed = declared.type.parse(data[key]);
    if (parsed.ok) values[key] = parsed.value;
    else problems.push(`${key} (from the master): expected ${parsed.expected}, got ${show(data[key])}`);
  }
  if (problems.length > 0) throw new BicornError('CONFIG_INVALID', { problems });
  return freeze(values) as Config;
}

/** The TLS and HTTP/2 settings that only work together. */
function tlsProblems(values: Record<string, unknown>, sources: Record<SettingKey, Source>): string[] {
  const given = (key: SettingKey): boolean => values[key] !== null;
  const from = (key: SettingKey): string => `${key} (from ${describeSource(sources[key])})`;
  const problems: string[] = [];
  if (given('certfile') && !given('keyfile')) problems.push(`${from('certfile')}: needs keyfile, the certificate's private key`);
  if (given('keyfile') && !given('certfile')) problems.push(`${from('keyfile')}: needs certfile, the certificate it goes with`);
  for (const key of ['ca_certs', 'keyfile_password', 'ciphers', 'ssl_version'] as const) {
    if (given(key) && !given('certfile')) problems.push(`${from(key)}: has no effect without certfile and keyfile; set them, or leave ${key} out`);
  }
  if (values.cert_reqs !== 0 && !given('ca_certs')) problems.push(`${from('cert_reqs')}: client certificates are checked against ca_certs; set it to the CA file that signs them`);
  const protocols = String(values.http_protocols).split(',');
  const cleartext = values.http2_cleartext === 'prior-knowledge';
  if (cleartext && !protocols.includes('h2')) problems.push(`${from('http2_cleartext')}: serves HTTP/2, which ${from('http_protocols')} leaves out; set http_protocols to h2,h1`);
  if (!protocols.includes('h1') && !given('certfile') && !cleartext) {
    problems.push(`${from('http_protocols')}: HTTP/2 alone needs TLS (certfile and keyfile) or http2_cleartext prior-knowledge; add h1, or set one of them`);
  }
  return problems;
}

function pick(key: SettingKey, cli: CliValues, env: Env, file: ConfigFile | undefined, peers: PeerValues): { raw: unknown; source: Source } {
  const fromCli = cli[key];
  if (fromCli !== undefined) return { raw: fromCli.value, source: { kind: 'cli', flag: fromCli.flag } };
  const [own, ...others] = envNames(key);
  const fromOwn = own === undefined ? undefined : env[own];
  if (own !== undefined && fromOwn !== undefined) return { raw: fromOwn, source: { kind: 'env', name: own } };
  const fromPeers = peers[key];
  if (fromPeers !== undefined) return { raw: fromPeers.value, source: fromPeers.source };
  for (const name of others) {
    const raw = env[name];
    if (raw !== undefined) return { raw, source: { kind: 'env', name } };
  }
  if (file !== undefined && Object.hasOwn(file.values, key)) {
    return { raw: file.values[key], source: { kind: 'file', file: file.label } };
  }
  return { raw: undefined, source: { kind: 'default' } };
}

function unknownFileKeys(file: ConfigFile | undefined, hint: KeyHint | undefined): string[] {
  if (file === undefined) return [];
  return Object.keys(file.values)
    .filter((key) => !isSettingKey(key))
    .map((key) => {
      const known = hint?.(key);
      return `unknown setting "${key}" in ${file.label}${known === undefined ? didYouMean(key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), settingKeys) : `; ${known}`}`;
    });
}

function unknownEnvNames(env: Env): string[] {
  const known = settingKeys.map((key) => `BICORN_${key.toUpperCase()}`);
  return Object.keys(env)
    .filter((name) => name.startsWith('BICORN_') && !known.includes(name))
    .map((name) => `unknown environment variable ${name}${didYouMean(name, known)}`);
}

function didYouMean(input: string, candidates: readonly string[]): string {
  const suggestion = closest(input, candidates);
  return suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
}

function show(raw: unknown): string {
  if (raw === undefined) return 'nothing';
  // `-w "$WORKERS"` with WORKERS unset.
  if (raw === '' || (Array.isArray(raw) && raw.includes(''))) return `${JSON.stringify(raw)} (empty: is a variable unset?)`;
  return JSON.stringify(raw);
}

function freeze(values: Record<string, unknown>): Readonly<Record<string, unknown>> {
  for (const value of Object.values(values)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(values);
}

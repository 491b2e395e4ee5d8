// `bicorn systemd`: the facts a unit needs (bicorn's own paths, the config file, the settings
// given on the command line and in the environment, systemd's version), then the units as text.
// Runs in the CLI process; prints, never installs.
import { settings, type CliValues, type Env, type LoadedConfig, type Setting, type SettingKey } from '@bicorn/config';
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { renderServiceUnit, renderSocketUnit, unitName, type UnitInput } from './systemd-unit.js';

export interface SystemdRequest {
  readonly loaded: LoadedConfig;
  readonly cli: CliValues;
  readonly env: Env;
  readonly cwd: string;
  /** bicorn's binary, for ExecStart. */
  readonly binary: string;
  readonly socket: boolean;
  readonly name: string | undefined;
  readonly systemdVersion: number | undefined;
}

export function renderUnits(request: SystemdRequest): string {
  const { loaded, socket } = request;
  const { config, file } = loaded;
  const input: UnitInput = {
    config,
    name: request.name ?? unitName(config.app),
    command: [process.execPath, realBinary(request.binary), 'serve', ...(file === undefined ? [] : ['-c', file.path]), ...cliArguments(request.cli, socket)],
    workingDirectory: config.chdir ?? request.cwd,
    environment: environment(loaded, request.env),
    socket,
    systemdVersion: request.systemdVersion ?? installedSystemdVersion() ?? 253,
    origin: file === undefined ? 'the command line' : file.label,
  };
  const service = renderServiceUnit(input);
  return socket ? `${service}\n${renderSocketUnit(input)}` : service;
}

/** The settings given as flags, again as flags (`bind` becomes `--bind systemd` under --socket). */
function cliArguments(cli: CliValues, socket: boolean): string[] {
  const args: string[] = [];
  let app: string | undefined;
  for (const [key, given] of Object.entries(cli) as [SettingKey, { value: unknown; flag: string }][]) {
    if (key === 'app') {
      if (typeof given.value === 'string') app = given.value;
      continue;
    }
    if (key === 'bind' && socket) continue;
    const declared: Setting<unknown, unknown> = settings[key];
    const flag = declared.flags.find((f) => f.startsWith('--')) ?? `--${key}`;
    const values: unknown[] = Array.isArray(given.value) ? given.value : [given.value];
    // A flag without a value is written as given: --use-colors, --no-use-colors, --no-access-log.
    for (const value of values) args.push(...(value === true || value === false || value === null ? [given.flag] : [flag, typeof value === 'string' ? value : JSON.stringify(value)]));
  }
  if (socket) args.push('--bind', 'systemd');
  return app === undefined ? args : [...args, app];
}

/**
 * Settings that came from the environment keep coming from it, as Environment= lines; one
 * source may name two variables (UVICORN_HOST/UVICORN_PORT).
 */
function environment(loaded: LoadedConfig, env: Env): [string, string][] {
  const lines = new Map<string, string>();
  for (const source of Object.values(loaded.sources)) {
    if (source.kind !== 'env') continue;
    for (const name of source.name.split('/')) {
      const value = env[name];
      if (value !== undefined) lines.set(name, value);
    }
  }
  return [...lines];
}

function realBinary(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `systemctl --version` says "systemd 252 (...)"; undefined where there is no systemctl. */
function installedSystemdVersion(): number | undefined {
  const result = spawnSync('systemctl', ['--version'], { encoding: 'utf8' });
  const match = result.error === undefined ? /^systemd (\d+)/.exec(result.stdout) : null;
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

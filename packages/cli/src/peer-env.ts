// gunicorn's and uvicorn's environment, read as they read it: GUNICORN_CMD_ARGS (a command
// line, split as shlex splits it), UVICORN_<PARAM> (each click option's variable), and PORT
// (gunicorn's bind default, 0.0.0.0:$PORT). Their values rank below bicorn's flags and BICORN_*
// variables; each keeps its variable as its source. Runs in the CLI.
import { type Env, type PeerValues, type SettingKey, type Source } from '@bicorn/config';
import { CommanderError } from 'commander';
import { checkMissingValues, clickBoolean, normaliseArgv } from './argv.js';
import { readCommandLine, settingsParser, type Note } from './options.js';
import { peerFlags } from './peer-flags.js';
import { shellWords } from './shell-words.js';

export interface PeerEnvironment {
  readonly values: PeerValues;
  readonly notes: readonly Note[];
  readonly problems: readonly string[];
  /** `-c FILE` in GUNICORN_CMD_ARGS, which gunicorn reads when the command line names none. */
  readonly configFile: string | undefined;
}

interface Layer {
  readonly values: PeerValues;
  readonly notes: readonly Note[];
  readonly problems: readonly string[];
  readonly configFile?: string | undefined;
}

export function readPeerEnvironment(env: Env): PeerEnvironment {
  // In this order: GUNICORN_CMD_ARGS holds explicit flags, UVICORN_* are each option's own, and
  // PORT is only gunicorn's default for bind.
  const layers = [gunicornCmdArgs(env.GUNICORN_CMD_ARGS), uvicornVariables(env), port(env.PORT)];
  const values: PeerValues = {};
  for (const layer of layers) {
    for (const [key, given] of Object.entries(layer.values) as [SettingKey, NonNullable<PeerValues[SettingKey]>][]) values[key] ??= given;
  }
  return {
    values,
    notes: layers.flatMap((l) => l.notes),
    problems: layers.flatMap((l) => l.problems),
    configFile: layers[0]?.configFile,
  };
}

const empty: Layer = { values: {}, notes: [], problems: [] };

function gunicornCmdArgs(line: string | undefined): Layer {
  if (line === undefined || line.trim() === '') return empty;
  const name = 'GUNICORN_CMD_ARGS';
  let argv: string[];
  try {
    argv = shellWords(line);
  } catch (error) {
    return { ...empty, problems: [`${name}: ${(error as Error).message}; quote it as a shell would`] };
  }
  const layer = parse(name, argv, (flag) => ({ kind: 'env', name, flag }), () => `${name}: `);
  const problems = [...layer.problems];
  const notes = [...layer.notes];
  const { checkConfig, printConfig, config, app } = layer.extra;
  if (checkConfig === true || printConfig === true) problems.push(`${name}: give --check-config or --print-config on the command line`);
  // gunicorn does not take the app from it either.
  if (app !== undefined) notes.push({ level: 'warn', text: `${name}: the app argument ${app} is not read from it (as in gunicorn); name the app on the command line` });
  return { values: layer.values, notes, problems, configFile: config };
}

function uvicornVariables(env: Env): Layer {
  const argv: string[] = [];
  const problems: string[] = [];
  const variableOf = new Map<string, string>();
  let app: string | undefined;
  for (const param of peerFlags().uvicorn.params) {
    const raw = param.env === null ? undefined : env[param.env];
    // click takes an empty variable for an unset one; --version is no setting.
    if (param.env === null || raw === undefined || raw === '' || param.name === 'version') continue;
    for (const flag of [...param.flags, ...param.negations]) variableOf.set(flag, param.env);
    const [flag] = param.flags;
    if (flag === undefined) {
      app = raw;
      continue;
    }
    if (param.takes === 'none') {
      const on = clickBoolean(raw);
      if (on === undefined) problems.push(`${param.env}: expected a boolean (true or false, 1 or 0, yes or no, on or off), got ${JSON.stringify(raw)}`);
      else if (on) argv.push(flag);
      else if (param.negations[0] !== undefined) argv.push(param.negations[0]);
    } else if (param.repeat) {
      for (const item of raw.split(param.envSplit === 'pathsep' ? ':' : /\s+/).filter((part) => part !== '')) argv.push(flag, item);
    } else {
      argv.push(flag, raw);
    }
  }
  if (argv.length === 0 && app === undefined) return { ...empty, problems };
  const variable = (flag: string): string => flag.split('/').map((f) => variableOf.get(f) ?? f).join('/');
  const layer = parse('UVICORN_*', argv, (flag) => ({ kind: 'env', name: variable(flag) }), (flag) => `${variable(flag)}: `);
  const values: PeerValues = app === undefined ? layer.values : { ...layer.values, app: { value: app, source: { kind: 'env', name: 'UVICORN_APP' } } };
  return { values, notes: layer.notes, problems: [...problems, ...layer.problems] };
}

function port(value: string | undefined): Layer {
  if (value === undefined || value === '') return empty;
  return { ...empty, values: { bind: { value: [`0.0.0.0:${value}`], source: { kind: 'env', name: 'PORT' } } } };
}

interface Parsed extends Layer {
  readonly extra: { checkConfig?: boolean; printConfig?: boolean; config?: string; app?: string | undefined };
}

/**
 * Parses a variable's command line with bicorn's own options: `sourceOf` is the source of the
 * value a flag gave, `origin` what notes and problems about the flag start with.
 */
function parse(name: string, argv: readonly string[], sourceOf: (flag: string) => Source, origin: (flag: string) => string): Parsed {
  const { command, options } = settingsParser(name);
  let app: string | undefined;
  command.action((given: string | undefined) => {
    app = given;
  });
  try {
    checkMissingValues(argv, command);
    command.parse(normaliseArgv(argv), { from: 'user' });
  } catch (error) {
    const message = error instanceof CommanderError ? error.message.replace(/^error: /, '') : (error as Error).message;
    return { ...empty, problems: [`${name}: ${message}`], extra: {} };
  }
  const line = readCommandLine(command, options, undefined, origin);
  const values: PeerValues = {};
  for (const [key, given] of Object.entries(line.values) as [SettingKey, { value: unknown; flag: string }][]) {
    values[key] = { value: given.value, source: sourceOf(given.flag) };
  }
  return { values, notes: line.notes, problems: line.problems, extra: { ...command.opts<Parsed['extra']>(), app } };
}

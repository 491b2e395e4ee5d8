// Reading a command's configuration: its command line, gunicorn's and uvicorn's environment,
// the config file (bicorn's own, or a gunicorn.conf.py), and the drop-in notes and problems that
// go with them, reported together.
// Runs in the CLI.
import { readConfigFile, resolveConfig, type ConfigFile, type Env, type LoadedConfig } from '@bicorn/config';
import { BicornError, isBicornError } from '@bicorn/protocol';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CommandLine, Note } from './options.js';
import { gunicornKeyHint, readGunicornFile } from './gunicorn-file.js';
import { readPeerEnvironment } from './peer-env.js';

export interface ReadConfig {
  readonly loaded: LoadedConfig;
  /** For the start of the log, and bicorn check. */
  readonly notes: readonly Note[];
}

export interface ReadConfigOptions {
  readonly env: Env;
  readonly cwd: string;
  /** `-c FILE` on the command line. */
  readonly configFile: string | undefined;
}

export async function readConfig(line: CommandLine, options: ReadConfigOptions): Promise<ReadConfig> {
  const peers = readPeerEnvironment(options.env);
  const configFile = options.configFile ?? peers.configFile;
  const problems = [...line.problems, ...peers.problems];
  const notes: Note[] = [...line.notes, ...peers.notes];
  let file: ConfigFile | undefined;
  try {
    file = await chooseFile(line, options, configFile, notes, problems);
  } catch (error) {
    if (problems.length > 0 && isBicornError(error) && error.code === 'CONFIG_FILE_FAILED') problems.push(error.message);
    else throw error;
  }
  let loaded: LoadedConfig;
  try {
    loaded = resolveConfig(line.values, options.env, file, peers.values, gunicornKeyHint);
  } catch (error) {
    if (problems.length > 0 && isBicornError(error) && error.code === 'CONFIG_INVALID') {
      throw new BicornError('CONFIG_INVALID', { problems: [...problems, ...(error as BicornError<'CONFIG_INVALID'>).details.problems] });
    }
    throw error;
  }
  if (problems.length > 0) throw new BicornError('CONFIG_INVALID', { problems });
  return { loaded, notes };
}

/**
 * The config file layer: a gunicorn config named with -c (or in GUNICORN_CMD_ARGS), else
 * bicorn's own (named, or found in the working directory), else ./gunicorn.conf.py as gunicorn
 * reads it by default; a bicorn.config.* found beside one wins, with an info line.
 */
async function chooseFile(line: CommandLine, options: ReadConfigOptions, configFile: string | undefined, notes: Note[], problems: string[]): Promise<ConfigFile | undefined> {
  const readGunicorn = (location: string): ConfigFile => {
    const python = line.values.python?.value ?? options.env.BICORN_PYTHON;
    const read = readGunicornFile(location, { cwd: options.cwd, env: options.env, python: typeof python === 'string' ? python : null });
    notes.push(...read.notes);
    problems.push(...read.problems);
    if (read.hooks.length > 0) notes.push({ level: 'info', text: `${read.file.label}: server hooks ${read.hooks.join(', ')}` });
    return read.file;
  };
  if (configFile !== undefined && isPythonConfig(configFile)) return readGunicorn(configFile);
  const file = await readConfigFile(options.cwd, configFile);
  if (configFile !== undefined || !existsSync(join(options.cwd, DEFAULT_GUNICORN_CONFIG))) return file;
  if (file === undefined) return readGunicorn(DEFAULT_GUNICORN_CONFIG);
  notes.push({ level: 'info', text: `./${DEFAULT_GUNICORN_CONFIG} is not read: ${file.label} is (a bicorn config file wins); pass -c ${DEFAULT_GUNICORN_CONFIG} to read it instead` });
  return file;
}

/** What gunicorn reads from the working directory when no -c is given. */
const DEFAULT_GUNICORN_CONFIG = 'gunicorn.conf.py';

/**
 * gunicorn.conf.py, gunicorn's python:module.name or file:path, or another file gunicorn would
 * run as Python (gunicorn.conf): one whose extension is none that bicorn reads (an .bicornrc has
 * none).
 */
function isPythonConfig(file: string): boolean {
  return file.startsWith('python:') || file.startsWith('file:') || !/\.(json|ya?ml|[cm]?js)$|^\.?[^.]*$/.test(basename(file));
}

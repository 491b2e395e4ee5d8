// Reading a command's configuration: its command line, gunicorn's and uvicorn's environment,
// the config file, and the drop-in notes and problems that go with them, reported together.
// Runs in the CLI.
import { loadConfig, type Env, type LoadedConfig } from '@bicorn/config';
import { BicornError, isBicornError } from '@bicorn/protocol';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CommandLine, Note } from './options.js';
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
  const pythonFile = configFile !== undefined && isPythonConfig(configFile);
  const problems = [...line.problems, ...peers.problems];
  if (pythonFile) {
    problems.push(`-c ${configFile}: gunicorn's Python config files are not read yet (they come with issue 18), and bicorn's own end in .json, .yaml, .yml, .js, .mjs or .cjs; give its settings as flags (gunicorn's names work, see docs/dropin.md), in GUNICORN_CMD_ARGS, or in a bicorn.config.mjs`);
  }
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({ cli: line.values, env: options.env, cwd: options.cwd, configFile: pythonFile ? undefined : configFile, peers: peers.values });
  } catch (error) {
    if (problems.length > 0 && isBicornError(error) && error.code === 'CONFIG_INVALID') {
      throw new BicornError('CONFIG_INVALID', { problems: [...problems, ...(error as BicornError<'CONFIG_INVALID'>).details.problems] });
    }
    throw error;
  }
  if (problems.length > 0) throw new BicornError('CONFIG_INVALID', { problems });
  return { loaded, notes: [...line.notes, ...peers.notes, ...unreadGunicornConfig(options.cwd, configFile)] };
}

/**
 * gunicorn.conf.py, gunicorn's python:module.name, or another file gunicorn would run as Python
 * (gunicorn.conf): one whose extension is none that bicorn reads (an .bicornrc has none).
 */
function isPythonConfig(file: string): boolean {
  return file.startsWith('python:') || !/\.(json|ya?ml|[cm]?js)$|^\.?[^.]*$/.test(basename(file));
}

/** gunicorn reads ./gunicorn.conf.py when no -c is given; bicorn does not, and says so. */
function unreadGunicornConfig(cwd: string, configFile: string | undefined): Note[] {
  if (configFile !== undefined || !existsSync(join(cwd, 'gunicorn.conf.py'))) return [];
  return [{ level: 'warn', text: "./gunicorn.conf.py is not read (gunicorn reads it by default; bicorn will with issue 18), so its settings do not apply: give them as flags or in a bicorn.config.mjs" }];
}

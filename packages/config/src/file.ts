// Finding and reading the config file with cosmiconfig: bicorn.config.*, .bicornrc*, or the
// "bicorn" key of package.json in the working directory, or the file given with -c.
import { cosmiconfig } from 'cosmiconfig';
import { BicornError } from '@bicorn/protocol';
import { relative } from 'node:path';

export interface ConfigFile {
  readonly path: string;
  /** The path as a person would name it: relative to the working directory. */
  readonly label: string;
  readonly values: Readonly<Record<string, unknown>>;
}

const searchPlaces = [
  'package.json',
  '.bicornrc',
  '.bicornrc.json',
  '.bicornrc.yaml',
  '.bicornrc.yml',
  'bicorn.config.js',
  'bicorn.config.mjs',
  'bicorn.config.cjs',
  'bicorn.config.json',
  'bicorn.config.yaml',
  'bicorn.config.yml',
];

export async function readConfigFile(cwd: string, explicitPath: string | undefined): Promise<ConfigFile | undefined> {
  const explorer = cosmiconfig('bicorn', { searchPlaces, searchStrategy: 'none', cache: false });
  let result: Awaited<ReturnType<typeof explorer.search>>;
  try {
    result = explicitPath === undefined ? await explorer.search(cwd) : await explorer.load(explicitPath);
  } catch (error) {
    throw new BicornError('CONFIG_FILE_FAILED', {
      file: explicitPath ?? cwd,
      reason: readableReason(error),
    });
  }
  if (result === null) return undefined;
  const label = relative(cwd, result.filepath) || result.filepath;
  const values: unknown = result.config;
  if (values === undefined || values === null) return { path: result.filepath, label, values: {} };
  if (typeof values !== 'object' || Array.isArray(values)) {
    throw new BicornError('CONFIG_FILE_FAILED', {
      file: label,
      reason: `expected an object of settings, got ${Array.isArray(values) ? 'an array' : typeof values}`,
    });
  }
  return { path: result.filepath, label, values: values as Record<string, unknown> };
}

function readableReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    return error.message.split('\n')[0] ?? error.message;
  }
  return String(error);
}

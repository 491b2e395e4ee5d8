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
    const failedFile = (error as { filepath?: unknown }).filepath;
    const file = typeof failedFile === 'string' ? failedFile : (explicitPath ?? cwd);
    throw new BicornError('CONFIG_FILE_FAILED', { file: relative(cwd, file) || file, reason: readableReason(error) });
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

/** The parser's own words on one line, without cosmiconfig's "JSON Error in <file>:" prefix. */
function readableReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no such file';
  const lines = error.message.split('\n').filter((line) => line.trim() !== '' && !/^\w+ Error in /.test(line));
  return (lines[0] ?? error.message).trim();
}

// Finding and reading the config file with cosmiconfig: bicorn.config.*, .bicornrc*, or the
// "bicorn" key of package.json in the working directory, or the file given with -c.
import { BicornError } from '@bicorn/protocol';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

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
  // Nothing to search: cosmiconfig, and the node:crypto it loads, would hold about 1 MiB of a
  // master that reads its settings elsewhere.
  if (explicitPath === undefined && !searchPlaces.some((name) => existsSync(join(cwd, name)))) return undefined;
  // Loaded here, not with this package: workers use the config without reading a file.
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('bicorn', { searchPlaces, searchStrategy: 'none', cache: false, loaders: { '.js': loadFreshJs, '.mjs': loadFreshJs, '.cjs': loadFreshJs } });
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

const require = createRequire(import.meta.url);
let loads = 0;

/**
 * Imports a JavaScript config file anew each time: a reload must see the edited file, and
 * node caches modules by URL (ES modules) and by path (CommonJS).
 */
async function loadFreshJs(filepath: string): Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the CommonJS cache is keyed by path
  delete require.cache[filepath];
  const url = pathToFileURL(filepath);
  url.search = `?load=${String(++loads)}`;
  const module = (await import(url.href)) as { default?: unknown };
  return module.default;
}

/** The parser's own words on one line, without cosmiconfig's "JSON Error in <file>:" prefix. */
function readableReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no such file';
  const lines = error.message.split('\n').filter((line) => line.trim() !== '' && !/^\w+ Error in /.test(line));
  return (lines[0] ?? error.message).trim();
}

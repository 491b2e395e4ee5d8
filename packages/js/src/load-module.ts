// Finds, imports and picks the export named by an app spec such as `./server.mjs:app`, turning
// each way that can fail into a BicornError that names the file or the export. Runs in the
// worker at app load (and in `bicorn check`).
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BicornError } from '@bicorn/protocol';
import { describeExport } from './interface.js';

export interface AppSpec {
  readonly file: string;
  readonly exportName: string;
}

export interface AppExport {
  readonly exportName: string;
  readonly value: unknown;
  /** The module's export names, for error messages. */
  readonly available: readonly string[];
}

const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

export function parseAppSpec(app: string): AppSpec {
  const colon = app.lastIndexOf(':');
  // Only an identifier after the last colon is an export name, so "C:\srv\app.mjs" stays a path.
  if (colon > 0 && EXPORT_NAME.test(app.slice(colon + 1))) {
    return { file: app.slice(0, colon), exportName: app.slice(colon + 1) };
  }
  return { file: app, exportName: 'default' };
}

export async function importAppExport(app: string, cwd: string): Promise<AppExport> {
  const spec = parseAppSpec(app);
  const path = resolve(cwd, spec.file);
  const isFile = await stat(path).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (!isFile) throw new BicornError('APP_NOT_FOUND', { app, path });

  let namespace: unknown;
  try {
    namespace = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new BicornError('APP_IMPORT_FAILED', { app, error: errorText(error) }, { cause: error });
  }
  const exports = new Map<string, unknown>(typeof namespace === 'object' && namespace !== null ? Object.entries(namespace) : []);
  // node gives a CommonJS module's `module.exports` as the default export; names it cannot
  // detect statically are still properties of that object.
  const commonJs = extname(path) !== '.mjs' ? exports.get('default') : undefined;
  const fromCommonJs = typeof commonJs === 'object' && commonJs !== null ? new Map<string, unknown>(Object.entries(commonJs)) : undefined;
  const available = [...new Set([...exports.keys(), ...(fromCommonJs?.keys() ?? [])])];

  const { exportName } = spec;
  const found = exports.has(exportName) || fromCommonJs?.has(exportName) === true;
  const value = exports.has(exportName) ? exports.get(exportName) : fromCommonJs?.get(exportName);
  if (!found || value === undefined || value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    throw new BicornError('APP_EXPORT_INVALID', { app, exportName, found: found ? describeExport(value) : 'missing', available });
  }
  return { exportName, value, available };
}

/** The app's own stack as it printed it; it is what a person needs to fix the import. */
function errorText(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return `uncaught value thrown while importing: ${String(error)}`;
}

// --reload (development): watches the app's folders with chokidar, loaded only then, and asks
// for a reload when a matching file changes (or the config file, or a --reload-extra-file), a
// burst of changes making one reload. Runs in the master.
import { appKind, staticMounts, type Config } from '@bicorn/config';
import type { Logger } from '@bicorn/runtime';
import type { Stats } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { globMatcher } from './glob.js';

const DEFAULT_INCLUDE = ['*.py', '*.js', '*.mjs', '*.cjs', '*.ts'];
const DEFAULT_EXCLUDE = ['.*', 'node_modules', '__pycache__', '*.pyc', '*~'];
/** Quiet time after the last change before reloading: an editor's save is several events. */
const DEBOUNCE_MS = 150;

export interface WatchOptions {
  readonly config: Config;
  readonly cwd: string;
  /** The config file in use, watched too. */
  readonly configFile: string | undefined;
  readonly log: Logger;
  readonly onChange: (reason: string) => void;
}

export interface Watcher {
  close(): Promise<void>;
}

/** The folders --reload watches: chdir (or the working directory for a Python app), pythonpath, the JS app's folder, --reload-dir. */
function watchedFolders(config: Config, cwd: string): string[] {
  const folders = new Set<string>();
  const app = config.app ?? '';
  if (config.chdir !== null) folders.add(resolve(cwd, config.chdir));
  else if (appKind(app) === 'python') folders.add(cwd);
  if (appKind(app) === 'js') folders.add(dirname(resolve(cwd, app.replace(/:[\w$]+$/, ''))));
  for (const dir of [...config.pythonpath, ...config.reload_dirs]) folders.add(resolve(cwd, dir));
  return [...folders];
}

/** Static directories are not watched: the workers see their files change by themselves. */
function staticFolders(config: Config, cwd: string): string[] {
  return staticMounts(config.static).map((mount) => resolve(cwd, config.chdir ?? '.', mount.directory));
}

export async function startWatcher(options: WatchOptions): Promise<Watcher> {
  const { config, cwd, log } = options;
  const folders = watchedFolders(config, cwd);
  const statics = staticFolders(config, cwd);
  // The config file and --reload-extra-file count whatever their names, wherever they are.
  const named = new Set([...(options.configFile === undefined ? [] : [options.configFile]), ...config.reload_extra_files].map((file) => resolve(cwd, file)));
  const included = globMatcher([...DEFAULT_INCLUDE, ...config.reload_include]);
  const excluded = globMatcher([...DEFAULT_EXCLUDE, ...config.reload_exclude]);
  const roots = new Set(folders);
  const ignored = (path: string, stats?: Stats): boolean => {
    if (roots.has(path) || named.has(path)) return false;
    if (statics.some((dir) => path === dir || path.startsWith(dir + sep))) return true;
    if (excluded(basename(path), relativeTo(folders, path))) return true;
    // Folders are always entered; files count only when included.
    return stats?.isFile() === true && !included(basename(path), relativeTo(folders, path));
  };
  // Loaded here, so that chokidar costs nothing without --reload.
  const { watch } = await import('chokidar');
  const watcher = watch([...folders, ...named], { ignored, ignoreInitial: true });
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const onEvent = (path: string): void => {
    if (!named.has(path) && (excluded(basename(path), relativeTo(folders, path)) || !included(basename(path), relativeTo(folders, path)))) return;
    const rel = relative(cwd, path);
    changed.add(rel === '' || rel.startsWith('..') ? path : rel);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed];
      changed.clear();
      log.info({ files }, 'files changed; reloading');
      options.onChange(`changed: ${files.join(', ')}`);
    }, DEBOUNCE_MS);
  };
  watcher.on('add', onEvent).on('change', onEvent).on('unlink', onEvent);
  watcher.on('error', (error: unknown) => {
    log.warn({ err: error }, 'file watcher error');
  });
  await new Promise<void>((ready) => watcher.once('ready', ready));
  log.info({ folders, files: [...named], include: [...DEFAULT_INCLUDE, ...config.reload_include], exclude: [...DEFAULT_EXCLUDE, ...config.reload_exclude] }, 'watching for file changes');
  return {
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

function relativeTo(folders: readonly string[], path: string): string {
  for (const folder of folders) {
    const rel = relative(folder, path);
    if (!rel.startsWith('..')) return rel;
  }
  return path;
}

// What one static directory holds, looked up on disk and remembered for at most a second: each
// file's size and dates, its .br and .gz siblings, whether it may be served (symlinks), whether
// its name is hashed, and the whole bytes of small files. Runs in the worker.
import { constants, type Stats } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { contentType } from 'mime-types';
import { DJANGO_MANIFEST, looksHashed, parseManifest } from './hashed-names.js';
import type { StaticLog } from './log.js';

/** A lookup is trusted this long; then the disk is asked again, so a new collectstatic is seen. */
export const FRESH_MS = 1_000;
/**
 * Files up to this size are kept in memory while fresh and sent in one write: node has no
 * sendfile, and a 1 MiB image read from disk for each request cost three times the CPU of one
 * sent from memory (1,000 against 340 µs a request, 2 cores). Larger files are streamed.
 */
export const SMALL_FILE = 1024 * 1024;
/** What the kept bytes of one directory may add up to; beyond it, the least recently refreshed go. */
const CACHE_BYTES = 32 * 1024 * 1024;
const CACHE_ENTRIES = 8_192;
// Non-blocking, so that a FIFO put in the directory cannot hang a thread of the pool.
export const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** One file on disk as it was when looked at: the file itself or one of its siblings. */
export interface FileVersion {
  readonly path: string;
  readonly size: number;
  /** Strong: size and modification time in microseconds. */
  readonly etag: string;
  readonly modifiedS: number;
  readonly lastModified: string;
  /** The whole file, when it is small. */
  readonly body: Buffer | undefined;
  /** Device, inode, size and both times: when unchanged, so are the bytes. */
  readonly stamp: string;
}

export interface StaticFile {
  readonly kind: 'file';
  readonly file: FileVersion;
  readonly br: FileVersion | undefined;
  readonly gzip: FileVersion | undefined;
  readonly contentType: string;
  readonly hashed: boolean;
}

/** missing: no such file, or a directory (the app's to answer); refused: 404 from here. */
export type Lookup = StaticFile | { readonly kind: 'missing' } | { readonly kind: 'refused' };

const MISSING: Lookup = { kind: 'missing' };
const REFUSED: Lookup = { kind: 'refused' };

interface Entry {
  readonly found: StaticFile;
  readonly checkedAt: number;
}

interface Remembered<T> {
  readonly value: T;
  readonly checkedAt: number;
}

export class FileIndex {
  readonly #root: string;
  readonly #followSymlinks: boolean;
  readonly #log: StaticLog;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Lookup>>();
  #bytes = 0;
  #realRoot: Remembered<Promise<string>> | undefined;
  #manifest: Remembered<Promise<Manifest | undefined>> | undefined;

  constructor(root: string, options: { readonly followSymlinks: boolean; readonly log: StaticLog }) {
    this.#root = root;
    this.#followSymlinks = options.followSymlinks;
    this.#log = options.log;
  }

  /** A file looked up less than FRESH_MS ago, without waiting: the fast path. */
  fresh(relative: string, now: number): StaticFile | undefined {
    const entry = this.#entries.get(relative);
    return entry !== undefined && now - entry.checkedAt < FRESH_MS ? entry.found : undefined;
  }

  /** Looks the file up on disk (once for concurrent callers); misses and refusals are not kept. */
  find(relative: string): Promise<Lookup> {
    let pending = this.#pending.get(relative);
    if (pending === undefined) {
      pending = this.#lookUp(relative).finally(() => this.#pending.delete(relative));
      this.#pending.set(relative, pending);
    }
    return pending;
  }

  /** Drops what is known of a file that was found changed while being sent. */
  forget(relative: string): void {
    const entry = this.#entries.get(relative);
    if (entry === undefined) return;
    this.#entries.delete(relative);
    this.#bytes -= keptBytes(entry.found);
  }

  async #lookUp(relative: string): Promise<Lookup> {
    const previous = this.#entries.get(relative)?.found;
    const path = join(this.#root, relative);
    const file = await this.#version(path, previous?.file);
    if (file === 'missing') {
      this.forget(relative);
      return MISSING;
    }
    if (file === 'refused' || !(await this.#inside(path))) {
      this.forget(relative);
      return REFUSED;
    }
    const [br, gzip, manifest] = await Promise.all([
      this.#sibling(`${path}.br`, file, previous?.br),
      this.#sibling(`${path}.gz`, file, previous?.gzip),
      this.#currentManifest(),
    ]);
    const found: StaticFile = {
      kind: 'file',
      file,
      br,
      gzip,
      contentType: contentType(basename(path)) || 'application/octet-stream',
      hashed: manifest === undefined ? looksHashed(relative) : manifest.has(relative),
    };
    this.#remember(relative, found);
    return found;
  }

  /** A sibling is used only when it is a servable file at least as new as the file itself. */
  async #sibling(path: string, file: FileVersion, previous: FileVersion | undefined): Promise<FileVersion | undefined> {
    const version = await this.#version(path, previous);
    if (typeof version === 'string' || version.modifiedS < file.modifiedS || !(await this.#inside(path))) return undefined;
    return version;
  }

  /** Opens the file once: its stats from the open descriptor, and its bytes when small. */
  async #version(path: string, previous: FileVersion | undefined): Promise<FileVersion | 'missing' | 'refused'> {
    let handle: FileHandle;
    try {
      handle = await open(path, OPEN_FLAGS);
    } catch (error) {
      return this.#openFailed(path, error);
    }
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) return 'missing';
      if (!stats.isFile()) return 'refused';
      const stamp = stampOf(stats);
      if (previous?.stamp === stamp) return previous;
      const body = stats.size <= SMALL_FILE ? await readWhole(handle, stats.size) : undefined;
      // A file that changed size while read is looked at again by the next request.
      if (body !== undefined && body.length !== stats.size) return versionOf(path, stats, undefined);
      return versionOf(path, stats, body);
    } finally {
      await handle.close();
    }
  }

  #openFailed(path: string, error: unknown): 'missing' | 'refused' {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return 'missing';
    // EACCES, ELOOP, EIO: the operator's to fix, and the client's to get a 404.
    this.#log.warn({ path, code }, 'static file cannot be opened; answering 404');
    return 'refused';
  }

  /** Whether the real path stays inside the directory (always, with follow_symlinks). */
  async #inside(path: string): Promise<boolean> {
    if (this.#followSymlinks) return true;
    try {
      const [real, root] = await Promise.all([realpath(path), this.#currentRealRoot()]);
      return real.startsWith(root.endsWith(sep) ? root : root + sep);
    } catch {
      return false;
    }
  }

  /** The directory's own real path, asked again each second: a release symlink may be switched. */
  #currentRealRoot(): Promise<string> {
    const now = Date.now();
    if (this.#realRoot === undefined || now - this.#realRoot.checkedAt >= FRESH_MS) {
      this.#realRoot = { value: realpath(this.#root), checkedAt: now };
    }
    return this.#realRoot.value;
  }

  #currentManifest(): Promise<Manifest | undefined> {
    const now = Date.now();
    if (this.#manifest === undefined || now - this.#manifest.checkedAt >= FRESH_MS) {
      const previous = this.#manifest?.value;
      this.#manifest = { value: this.#readManifest(previous), checkedAt: now };
    }
    return this.#manifest.value;
  }

  async #readManifest(previous: Promise<Manifest | undefined> | undefined): Promise<Manifest | undefined> {
    const path = join(this.#root, DJANGO_MANIFEST);
    const last = await previous;
    const version = await this.#version(path, last?.version);
    if (typeof version === 'string') return undefined;
    if (version === last?.version) return last;
    // The manifest is read whole: Django's are a few hundred kilobytes at most.
    const text = version.body?.toString('utf8') ?? (await readFileOnce(path));
    const names = parseManifest(text);
    if (names === undefined) {
      this.#log.warn({ path }, 'static: not a Django staticfiles.json (no "paths"); hashed names are told by their form instead');
      return undefined;
    }
    return { version, has: (relative) => names.has(relative) };
  }

  #remember(relative: string, found: StaticFile): void {
    this.forget(relative);
    this.#entries.set(relative, { found, checkedAt: Date.now() });
    this.#bytes += keptBytes(found);
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= CACHE_BYTES && this.#entries.size <= CACHE_ENTRIES) break;
      this.#entries.delete(key);
      this.#bytes -= keptBytes(entry.found);
    }
  }
}

interface Manifest {
  readonly version: FileVersion;
  has(relative: string): boolean;
}

function keptBytes(found: StaticFile): number {
  return (found.file.body?.length ?? 0) + (found.br?.body?.length ?? 0) + (found.gzip?.body?.length ?? 0);
}

export function stampOf(stats: Stats): string {
  return `${String(stats.dev)}:${String(stats.ino)}:${String(stats.size)}:${String(stats.mtimeMs)}:${String(stats.ctimeMs)}`;
}

/** Built from the stats of an open descriptor, so that headers and bytes agree. */
export function versionOf(path: string, stats: Stats, body: Buffer | undefined): FileVersion {
  const modifiedS = Math.floor(stats.mtimeMs / 1000);
  return {
    path,
    size: stats.size,
    etag: `"${stats.size.toString(16)}-${Math.round(stats.mtimeMs * 1000).toString(16)}"`,
    modifiedS,
    lastModified: new Date(modifiedS * 1000).toUTCString(),
    body,
    stamp: stampOf(stats),
  };
}

async function readWhole(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let length = 0;
  while (length < size) {
    const { bytesRead } = await handle.read(buffer, length, size - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

async function readFileOnce(path: string): Promise<string> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

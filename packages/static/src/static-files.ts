// The static file server of a worker: a request listener in front of the app's that answers GET
// and HEAD under each mount from its directory and passes everything else (other methods, other
// paths, paths with no file) to the app. Runs in the worker.
import { failResponse, requestOrigin } from '@bicorn/gateway';
import { BicornError } from '@bicorn/protocol';
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { FileIndex, OPEN_FLAGS, stampOf, versionOf, type StaticFile } from './file-index.js';
import type { StaticLog } from './log.js';
import { matchPath, prefixSegments } from './request-path.js';
import { sendRange } from './send-range.js';
import { cacheControl, planResponse, selectVersion, type Selection, type StaticHeaders } from './response-plan.js';

export interface StaticOptions {
  /** `prefix` as `/static/` (or `/`); `directory` absolute or relative to `cwd`. */
  readonly mounts: readonly { readonly prefix: string; readonly directory: string }[];
  readonly cwd: string;
  /** Taken off the front of a path before the mounts are matched, when the path has it. */
  readonly rootPath: string;
  readonly maxAgeS: number;
  readonly hashedMaxAgeS: number;
  readonly cors: string | null;
  readonly followSymlinks: boolean;
  readonly log: StaticLog;
}

interface Mount {
  readonly segments: readonly string[];
  readonly index: FileIndex;
}

const REFUSALS = {
  400: Buffer.from('Bad Request\n'),
  404: Buffer.from('Not Found\n'),
} as const;

export class StaticFiles {
  readonly #mounts: readonly Mount[];
  readonly #prefixes: readonly (readonly string[])[];
  readonly #rootPath: string;
  readonly #rootSegments: readonly string[];
  readonly #headers: StaticHeaders;
  readonly #log: StaticLog;
  /** Requests answered (or being answered) here rather than by the app. */
  readonly #taken = new WeakSet<IncomingMessage>();

  /** Throws STATIC_DIR_INVALID (exit 2) when a directory is missing: a typo should not start. */
  constructor(options: StaticOptions) {
    const mounts = options.mounts.map(({ prefix, directory }) => {
      const root = resolve(options.cwd, directory);
      checkDirectory(`${prefix}=${directory}`, root);
      return { segments: prefixSegments(prefix), index: new FileIndex(root, { followSymlinks: options.followSymlinks, log: options.log }) };
    });
    // The longest prefix first, so that /static/admin/ wins over /static/ (and over /).
    this.#mounts = mounts.sort((a, b) => b.segments.length - a.segments.length);
    this.#prefixes = this.#mounts.map((m) => m.segments);
    this.#rootPath = options.rootPath;
    this.#rootSegments = prefixSegments(options.rootPath);
    this.#headers = {
      hashedCacheControl: cacheControl(options.hashedMaxAgeS, true),
      cacheControl: cacheControl(options.maxAgeS, false),
      cors: options.cors,
    };
    this.#log = options.log;
  }

  /** Whether this request was answered from a static directory (for the access log). */
  answered(req: IncomingMessage): boolean {
    return this.#taken.has(req);
  }

  /** The listener to give the server: static files first, the app for the rest. */
  inFrontOf(app: RequestListener): RequestListener {
    return (req, res) => {
      this.#handle(req, res, app);
    };
  }

  /** root_path, or the X-Forwarded-Prefix a trusted proxy sent (the front's origin). */
  #rootOf(req: IncomingMessage): readonly string[] {
    const rootPath = requestOrigin(req, this.#rootPath).rootPath;
    return rootPath === this.#rootPath ? this.#rootSegments : prefixSegments(rootPath);
  }

  #handle(req: IncomingMessage, res: ServerResponse, app: RequestListener): void {
    const method = req.method;
    const match = method === 'GET' || method === 'HEAD' ? matchPath(req.url ?? '', this.#rootOf(req), this.#prefixes) : undefined;
    if (match === undefined || match.kind === 'none' || (match.kind === 'file' && match.directory)) {
      app(req, res);
      return;
    }
    this.#taken.add(req);
    if (match.kind !== 'file') {
      refuse(res, match.kind === 'bad' ? 400 : 404);
      return;
    }
    const mount = this.#mounts[match.mount];
    if (mount === undefined) throw new RangeError(`no static mount ${String(match.mount)}`);
    const relative = match.segments.join('/');
    const fresh = mount.index.fresh(relative, Date.now());
    if (fresh !== undefined) {
      this.#send(req, res, fresh, mount, relative);
      return;
    }
    mount.index.find(relative).then(
      (lookup) => {
        if (lookup.kind === 'file') this.#send(req, res, lookup, mount, relative);
        else if (lookup.kind === 'refused') refuse(res, 404);
        else {
          // No such file: the app's to answer, as WhiteNoise leaves it to Django.
          this.#taken.delete(req);
          app(req, res);
        }
      },
      (error: unknown) => {
        this.#log.error({ err: error, path: req.url }, 'static file lookup failed');
        failResponse(res);
      },
    );
  }

  #send(req: IncomingMessage, res: ServerResponse, found: StaticFile, mount: Mount, relative: string): void {
    const headOnly = req.method === 'HEAD';
    const selection = selectVersion(req.headers, found);
    const { version } = selection;
    if (version.body !== undefined) {
      const plan = planResponse(headOnly, req.headers, found, selection, version, this.#headers);
      res.writeHead(plan.status, plan.headers);
      res.end(plan.body === undefined ? undefined : version.body.subarray(plan.body.start, plan.body.end + 1));
      return;
    }
    void this.#stream(req, res, found, mount, relative, headOnly, selection);
  }

  /** A large file: opened for this response, its headers from the open descriptor. */
  async #stream(req: IncomingMessage, res: ServerResponse, found: StaticFile, mount: Mount, relative: string, headOnly: boolean, selection: Selection): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(selection.version.path, OPEN_FLAGS);
      const stats = await handle.stat();
      let version = selection.version;
      if (stampOf(stats) !== version.stamp) {
        // Changed since it was looked up: send what is there now, and look again next time.
        mount.index.forget(relative);
        if (!stats.isFile()) {
          refuse(res, 404);
          return;
        }
        version = versionOf(version.path, stats, undefined);
      }
      const plan = planResponse(headOnly, req.headers, found, selection, version, this.#headers);
      res.writeHead(plan.status, plan.headers);
      if (plan.body === undefined) res.end();
      else await sendRange(handle, res, plan.body.start, plan.body.end);
    } catch (error) {
      if (res.destroyed) return; // the client left
      this.#log.error({ err: error, path: selection.version.path }, 'static file cannot be sent');
      failResponse(res);
    } finally {
      // A read-only descriptor has nothing to flush: a failed close changes nothing for anyone.
      await handle?.close().catch(() => undefined);
    }
  }
}

function refuse(res: ServerResponse, status: 400 | 404): void {
  const body = REFUSALS[status];
  res.writeHead(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length), 'x-content-type-options', 'nosniff']);
  res.end(body);
}

function checkDirectory(mount: string, path: string): void {
  let reason: string | undefined;
  try {
    if (!statSync(path).isDirectory()) reason = 'is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read by this user' : `cannot be read (${code ?? String(error)})`;
  }
  if (reason !== undefined) throw new BicornError('STATIC_DIR_INVALID', { mount, path, reason });
}

// What to answer for a static file, without I/O: which version to send (the file, or its .br or
// .gz sibling), the status (200, 206, 304, 412, 416), the headers and the byte range. Runs in
// the worker, per request.
import type { IncomingHttpHeaders } from 'node:http';
import { evaluatePreconditions, ifRangeHolds, parseRange } from './conditions.js';
import { chooseEncoding, type Encoding } from './encoding.js';
import type { FileVersion, StaticFile } from './file-index.js';

/** The headers every static response of a mount shares, worked out once. */
export interface StaticHeaders {
  /** Cache-Control for hashed names, and for the others. */
  readonly hashedCacheControl: string;
  readonly cacheControl: string;
  /** Access-Control-Allow-Origin, when set. */
  readonly cors: string | null;
}

export interface Selection {
  readonly version: FileVersion;
  readonly encoding: Encoding | null;
  /** Whether a Range is honoured: always on the file itself, never on a sibling. */
  readonly ranged: boolean;
}

export interface Plan {
  readonly status: 200 | 206 | 304 | 412 | 416;
  /** Flat names and values, as writeHead takes them. */
  readonly headers: string[];
  /** Inclusive offsets of the bytes to send; none for HEAD and bodiless statuses. */
  readonly body: { readonly start: number; readonly end: number } | undefined;
}

/** node:http joins repeated fields with commas; only set-cookie comes as a list. */
function text(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function cacheControl(maxAgeS: number, immutable: boolean): string {
  const seconds = Math.floor(maxAgeS);
  if (seconds === 0) return 'no-cache';
  return immutable ? `public, max-age=${String(seconds)}, immutable` : `public, max-age=${String(seconds)}`;
}

/**
 * A Range that is honoured (valid, one range, If-Range holding) is served from the file itself:
 * ranges are offsets into the uncompressed bytes. Otherwise Accept-Encoding picks the version.
 */
export function selectVersion(headers: IncomingHttpHeaders, found: StaticFile): Selection {
  if (headers.range !== undefined && parseRange(headers.range, found.file.size).kind !== 'whole' && ifRangeHolds(text(headers['if-range']), found.file)) {
    return { version: found.file, encoding: null, ranged: true };
  }
  const encoding = chooseEncoding(headers['accept-encoding'], { br: found.br !== undefined, gzip: found.gzip !== undefined });
  const version = (encoding === 'br' ? found.br : encoding === 'gzip' ? found.gzip : undefined) ?? found.file;
  return { version, encoding: version === found.file ? null : encoding, ranged: false };
}

/** `version` is the selection's, or the same file as found changed when it was opened. */
export function planResponse(headOnly: boolean, headers: IncomingHttpHeaders, found: StaticFile, selection: Selection, version: FileVersion, shared: StaticHeaders): Plan {
  const cache = found.hashed ? shared.hashedCacheControl : shared.cacheControl;
  const varies = found.br !== undefined || found.gzip !== undefined;
  const validators = ['etag', version.etag, 'last-modified', version.lastModified, 'cache-control', cache];
  if (varies) validators.push('vary', 'Accept-Encoding');
  if (shared.cors !== null) validators.push('access-control-allow-origin', shared.cors);
  const precondition = evaluatePreconditions(headers, version);
  if (precondition === 'not-modified') return { status: 304, headers: validators, body: undefined };
  if (precondition === 'failed') return { status: 412, headers: [...validators, 'content-length', '0'], body: undefined };
  const range = selection.ranged ? parseRange(headers.range, version.size) : undefined;
  if (range?.kind === 'unsatisfiable') {
    return { status: 416, headers: [...validators, 'content-range', `bytes */${String(version.size)}`, 'content-length', '0'], body: undefined };
  }
  const [start, end] = range?.kind === 'part' ? [range.start, range.end] : [0, version.size - 1];
  const out = ['content-type', found.contentType, 'content-length', String(end - start + 1), ...validators, 'x-content-type-options', 'nosniff'];
  if (selection.encoding === null) out.push('accept-ranges', 'bytes');
  else out.push('content-encoding', selection.encoding);
  if (range?.kind === 'part') out.push('content-range', `bytes ${String(start)}-${String(end)}/${String(version.size)}`);
  const body = headOnly || end < start ? undefined : { start, end };
  return { status: range?.kind === 'part' ? 206 : 200, headers: out, body };
}

// Conditional and range requests on one file, without I/O: RFC 9110's preconditions (13.2.2's
// order), If-Range, and a single byte range. Runs in the worker, per request.
import type { IncomingHttpHeaders } from 'node:http';

/** What identifies one version of a file. */
export interface Validators {
  /** A strong entity tag, quotes included. */
  readonly etag: string;
  /** Whole seconds since the epoch, as Last-Modified carries it. */
  readonly modifiedS: number;
}

export type Precondition = 'proceed' | 'not-modified' | 'failed';

/** For GET and HEAD: 412 (failed), 304 (not-modified), or go on to the response. */
export function evaluatePreconditions(headers: IncomingHttpHeaders, file: Validators): Precondition {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!matchesAny(ifMatch, file.etag, true)) return 'failed';
  } else {
    const since = httpDateSeconds(headers['if-unmodified-since']);
    if (since !== undefined && file.modifiedS > since) return 'failed';
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return matchesAny(ifNoneMatch, file.etag, false) ? 'not-modified' : 'proceed';
  const since = httpDateSeconds(headers['if-modified-since']);
  return since !== undefined && file.modifiedS <= since ? 'not-modified' : 'proceed';
}

/** `*`, or a list of entity tags one of which is this one (a weak comparison ignores `W/`). */
function matchesAny(list: string, etag: string, strong: boolean): boolean {
  if (list.trim() === '*') return true;
  for (const [, weak, tag] of list.matchAll(/(W\/)?("[^"]*")/g)) {
    if (tag === etag && (!strong || weak === undefined)) return true;
  }
  return false;
}

/** Whether a Range may be honoured: no If-Range, or one that names this very version. */
export function ifRangeHolds(ifRange: string | undefined, file: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"')) return value === file.etag;
  if (value.startsWith('W/')) return false; // a weak tag never matches here
  return httpDateSeconds(value) === file.modifiedS;
}

export type ByteRange =
  /** No Range, or one this server ignores (several ranges, another unit, a malformed one): 200. */
  | { readonly kind: 'whole' }
  /** Inclusive offsets: 206. */
  | { readonly kind: 'part'; readonly start: number; readonly end: number }
  /** 416. */
  | { readonly kind: 'unsatisfiable' };

const WHOLE: ByteRange = { kind: 'whole' };

/**
 * One range of `bytes=first-last`, `bytes=first-` or `bytes=-suffix` against a file of `size`
 * bytes. Several ranges are answered with the whole file, as RFC 9110 allows: browsers and
 * download tools ask for one.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return WHOLE;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return WHOLE;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return WHOLE;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return WHOLE; // invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end };
}

/** An HTTP date as whole seconds; undefined when absent or unreadable (the header is then ignored). */
export function httpDateSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

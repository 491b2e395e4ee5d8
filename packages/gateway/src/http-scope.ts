// Builds the ASGI HTTP scope from a parsed request line and headers, without I/O. Runs in the
// worker, once per request.
import type { AsgiExtensions, AsgiVersion, HeaderPair, HttpScope } from './asgi-types.js';

export interface HttpScopeInput {
  readonly method: string;
  /** The request target as node:http gives it: the wire bytes as a latin1 string. */
  readonly target: string;
  readonly httpVersion: string;
  /** Alternating names and values, as in `IncomingMessage.rawHeaders`. */
  readonly rawHeaders: readonly string[];
  readonly scheme: 'http' | 'https';
  readonly client: readonly [string, number] | null;
  readonly server: readonly [string, number | null] | null;
  readonly rootPath: string;
  readonly extensions: AsgiExtensions;
  readonly state?: Record<string, unknown> | undefined;
}

// 2.5: receive() after the response yields http.disconnect, and send() on a closed connection raises.
const ASGI: AsgiVersion = Object.freeze({ version: '3.0', spec_version: '2.5' });

// Lower-cased names are shared between requests: a real server sees a few dozen distinct
// names, and the cap keeps a client that invents names from growing the map.
const NAME_CACHE_LIMIT = 512;
const nameCache = new Map<string, Buffer>();
/** The query string of most requests, shared as header names are. */
const NO_QUERY = Buffer.alloc(0);

export function buildHttpScope(input: HttpScopeInput): HttpScope {
  const { path: pathPart, query } = splitTarget(input.target);
  const root = input.rootPath;
  // Like uvicorn, path and raw_path carry the root path in front: the app strips it.
  const scope: HttpScope = {
    type: 'http',
    asgi: ASGI,
    http_version: httpVersionOf(input.httpVersion),
    method: input.method,
    scheme: input.scheme,
    path: root + decodePath(pathPart),
    raw_path: root === '' ? Buffer.from(pathPart, 'latin1') : Buffer.concat([Buffer.from(root), Buffer.from(pathPart, 'latin1')]),
    query_string: query === '' ? NO_QUERY : Buffer.from(query, 'latin1'),
    root_path: root,
    headers: headerPairs(input.rawHeaders),
    client: input.client,
    server: input.server,
    extensions: input.extensions,
  };
  // Each request gets a shallow copy of the lifespan state, as the ASGI spec asks.
  return input.state === undefined ? scope : { ...scope, state: { ...input.state } };
}

function httpVersionOf(version: string): HttpScope['http_version'] {
  if (version === '1.0') return '1.0';
  if (version === '2.0' || version === '2') return '2';
  return '1.1';
}

/**
 * The path and query of a request target. The absolute form (`http://host/path?q`, what a
 * client talking to a proxy sends) keeps only its path, `/` when it has none; its authority
 * ends at the first `/` or `?`.
 */
export function splitTarget(target: string): { path: string; query: string } {
  let start = 0;
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    const scheme = target.indexOf('://');
    if (scheme !== -1) {
      const end = target.slice(scheme + 3).search(/[/?]/);
      if (end === -1) return { path: '/', query: '' };
      start = scheme + 3 + end;
    }
  }
  const q = target.indexOf('?', start);
  const path = target.slice(start, q === -1 ? undefined : q);
  return { path: path === '' ? '/' : path, query: q === -1 ? '' : target.slice(q + 1) };
}

const NEEDS_DECODING = /[%\x80-\xff]/;

/** Percent-decodes the path and reads the bytes as UTF-8; malformed input becomes U+FFFD. */
export function decodePath(pathPart: string): string {
  if (!NEEDS_DECODING.test(pathPart)) return pathPart;
  const out = Buffer.allocUnsafe(pathPart.length);
  let length = 0;
  for (let i = 0; i < pathPart.length; i++) {
    const code = pathPart.charCodeAt(i);
    if (code === 0x25 /* % */ && i + 2 < pathPart.length) {
      const high = hexValue(pathPart.charCodeAt(i + 1));
      const low = hexValue(pathPart.charCodeAt(i + 2));
      if (high !== -1 && low !== -1) {
        out[length++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    out[length++] = code & 0xff;
  }
  return out.toString('utf8', 0, length);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

export function headerPairs(rawHeaders: readonly string[]): HeaderPair[] {
  const pairs: HeaderPair[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    pairs.push([lowerCaseName(rawHeaders[i] ?? ''), Buffer.from(rawHeaders[i + 1] ?? '', 'latin1')]);
  }
  return pairs;
}

// Shared across requests (the design asks header-name conversions to be memoized): apps must
// treat scope bytes as read-only, as every ASGI server assumes.
function lowerCaseName(raw: string): Buffer {
  let name = nameCache.get(raw);
  if (name === undefined) {
    name = Buffer.from(raw.toLowerCase(), 'latin1');
    if (nameCache.size < NAME_CACHE_LIMIT) nameCache.set(raw, name);
  }
  return name;
}

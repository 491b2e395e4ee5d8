// From a request target to a file under a static mount, without I/O: the root path taken off,
// the mount matched segment by segment on the decoded path, and every segment checked so that
// the result can only name a file inside the mount's directory. Runs in the worker, per request.

export type PathMatch =
  /** Under no mount: the app's request. */
  | { readonly kind: 'none' }
  /** Under a mount, but no file could have this name: `..`, encoded slashes, NUL, bad encoding (400). */
  | { readonly kind: 'bad' }
  /** Under a mount, with a segment starting with a dot other than a leading `.well-known` (404). */
  | { readonly kind: 'hidden' }
  /** The decoded segments under mount number `mount`; empty, or ending in a slash: a directory. */
  | { readonly kind: 'file'; readonly mount: number; readonly segments: readonly string[]; readonly directory: boolean };

const NONE: PathMatch = { kind: 'none' };
const BAD: PathMatch = { kind: 'bad' };
const HIDDEN: PathMatch = { kind: 'hidden' };
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A prefix as the config gives it (`/static/`, `/`) as decoded segments: `['static']`, `[]`. */
export function prefixSegments(prefix: string): readonly string[] {
  return prefix.split('/').filter((s) => s !== '');
}

/**
 * `mounts` are prefix segments, longest first so that `/static/admin/` wins over `/static/`.
 * `rootPath` (`/app` or '') is taken off when the path starts with it, as the WSGI runner
 * does: a proxy may or may not strip it.
 */
export function matchPath(target: string, rootPath: readonly string[], mounts: readonly (readonly string[])[]): PathMatch {
  // The origin form only: an absolute-form target (a client that takes us for a proxy) is the app's.
  if (target.charCodeAt(0) !== 0x2f /* / */) return NONE;
  const query = target.indexOf('?');
  const raw = (query === -1 ? target : target.slice(0, query)).split('/');
  raw.shift();
  let at = startsWith(raw, 0, rootPath) ? rootPath.length : 0;
  const mount = mounts.findIndex((prefix) => startsWith(raw, at, prefix));
  if (mount === -1) return NONE;
  at += mounts[mount]?.length ?? 0;
  const segments: string[] = [];
  let hidden = false;
  for (let i = at; i < raw.length; i++) {
    const segment = decodeSegment(raw[i] ?? '');
    if (segment === undefined || segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return BAD;
    if (segment === '') continue; // `a//b` names a/b, as in a shell
    if (segment.startsWith('.') && !(segments.length === 0 && segment === '.well-known')) hidden = true;
    segments.push(segment);
  }
  if (hidden) return HIDDEN;
  return { kind: 'file', mount, segments, directory: segments.length === 0 || raw.at(-1) === '' };
}

/** Whether the raw segments from `at` on start with the decoded `prefix`. */
function startsWith(raw: readonly string[], at: number, prefix: readonly string[]): boolean {
  if (raw.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (decodeSegment(raw[at + i] ?? '') !== prefix[i]) return false;
  }
  return true;
}

/**
 * Percent-decodes one segment and reads its bytes as UTF-8 (raw bytes above 0x7f arrive as
 * latin1 characters, as node:http gives them). Returns undefined for a malformed escape or
 * bytes that are not UTF-8: such a name is refused, never guessed at.
 */
export function decodeSegment(raw: string): string | undefined {
  if (!/[%\x80-\xff]/.test(raw)) return raw;
  const bytes = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code > 0xff) return undefined;
    if (code !== 0x25 /* % */) {
      bytes[length++] = code;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9a-f]{2}$/i.test(hex)) return undefined;
    bytes[length++] = Number.parseInt(hex, 16);
    i += 2;
  }
  try {
    return utf8.decode(bytes.subarray(0, length));
  } catch {
    return undefined;
  }
}

// Access lines: one per finished request, as JSON (in the field style of the server log), as a
// short readable line, or in a format of gunicorn's atoms (access_log_format). Used by workers.
import { openDestination, type LogFormatSetting } from './destination.js';
import { jsonStyles, type JsonStyle } from './json-style.js';
import { clockTime } from './pretty.js';

export interface AccessEntry {
  /** The client's address (the one a trusted proxy forwarded), '-' when unknown (a unix socket). */
  readonly client: string;
  /** Its port; 0 when unknown. */
  readonly clientPort: number;
  readonly method: string;
  /** The request target as it came. */
  readonly target: string;
  readonly httpVersion: string;
  readonly status: number;
  /** Bytes written to the socket for this response, headers included. */
  readonly bytes: number;
  readonly durationMs: number;
  /** The request's headers, names and values alternating, as they came. */
  readonly requestHeaders: readonly string[];
  /** The response head as written (status line and headers), when known. */
  readonly responseHead: string | undefined;
  readonly scheme: string;
  readonly server: readonly [string, number | null] | null;
  readonly rootPath: string;
  /** Answered from a static directory (--static) rather than by the app. */
  readonly static?: boolean;
}

export interface AccessLog {
  write(entry: AccessEntry): void;
  /** Writes what is buffered; call before the process exits. */
  flush(): void;
  /** Opens the file again by its path (SIGUSR1, after logrotate). */
  reopen(): void;
}

/** `format`: access_log_format (null: JSON lines or the readable line, as the log format). */
export function createAccessLog(target: string, logFormat: LogFormatSetting, format: string | null, jsonStyle: JsonStyle, workerId: number): AccessLog {
  // One line per request: written asynchronously, so a slow disk never stalls requests.
  const destination = openDestination(target, { setting: 'access_log', format: format === 'json' ? 'json' : logFormat, sync: false });
  const render =
    format !== null && format !== 'json'
      ? compileAccessFormat(format)
      : destination.pretty
        ? (entry: AccessEntry) => prettyAccessLine(entry, Date.now())
        : (entry: AccessEntry) => jsonAccessLine(entry, workerId, jsonStyle, Date.now());
  return {
    write: (entry) => {
      destination.stream.write(render(entry));
    },
    flush: destination.flush,
    reopen: destination.reopen,
  };
}

/** The time first, as on the server log's pretty lines. */
export function prettyAccessLine(entry: AccessEntry, now: number): string {
  return `${clockTime(now)} ${remoteOf(entry)} "${entry.method} ${entry.target} HTTP/${entry.httpVersion}" ${String(entry.status)} ${String(entry.bytes)} ${entry.durationMs.toFixed(1)}ms${entry.static === true ? ' static' : ''}\n`;
}

/** Shaped as the server log's lines of the same style, at level info. */
export function jsonAccessLine(entry: AccessEntry, workerId: number, jsonStyle: JsonStyle, now: number): string {
  const style = jsonStyles[jsonStyle];
  const [timeKey, time] = style.time(now);
  return `${JSON.stringify({
    [timeKey]: time,
    ...style.level('info', 30),
    ...style.base,
    role: 'worker',
    worker: workerId,
    [style.messageKey]: 'access',
    remote: remoteOf(entry),
    method: entry.method,
    path: entry.target,
    http: entry.httpVersion,
    [style.statusKey]: entry.status,
    bytes: entry.bytes,
    ms: Math.round(entry.durationMs * 100) / 100,
    ...(entry.static === true ? { static: true } : {}),
  })}\n`;
}

function remoteOf(entry: AccessEntry): string {
  return entry.clientPort === 0 ? entry.client : `${entry.client}:${String(entry.clientPort)}`;
}

type Atom = (entry: AccessEntry) => string;

/**
 * Compiles a format of gunicorn's atoms (`%(h)s`, `%({user-agent}i)s`, ...) once; an unknown
 * atom, or a header or variable the request lacks, is `-` as in gunicorn.
 */
export function compileAccessFormat(format: string): (entry: AccessEntry) => string {
  const parts: (string | Atom)[] = [];
  let at = 0;
  for (const match of format.matchAll(/%%|%\((\{[^}]*\}[ioe]|[A-Za-z])\)s/g)) {
    parts.push(format.slice(at, match.index));
    parts.push(match[0] === '%%' ? '%' : atom(match[1] ?? ''));
    at = match.index + match[0].length;
  }
  parts.push(`${format.slice(at)}\n`);
  return (entry) => {
    let line = '';
    for (const part of parts) line += typeof part === 'string' ? part : part(entry);
    return line;
  };
}

function atom(name: string): Atom {
  if (name.startsWith('{')) {
    const key = name.slice(1, -2).toLowerCase();
    switch (name.at(-1)) {
      case 'i':
        return (entry) => headerValue(entry.requestHeaders, key) ?? '-';
      case 'o':
        return (entry) => responseHeader(entry.responseHead, key) ?? '-';
      default:
        return (entry) => cgiVariable(entry, key) ?? '-';
    }
  }
  switch (name) {
    case 'h':
      return (entry) => entry.client;
    case 'l':
      return () => '-';
    case 'u':
      return (entry) => basicUser(headerValue(entry.requestHeaders, 'authorization')) ?? '-';
    case 't':
      return () => `[${apacheTime(new Date())}]`;
    case 'r':
      return (entry) => `${entry.method} ${entry.target} HTTP/${entry.httpVersion}`;
    case 's':
      return (entry) => String(entry.status);
    case 'm':
      return (entry) => entry.method;
    case 'U':
      return (entry) => pathInfo(entry);
    case 'q':
      return (entry) => queryOf(entry.target);
    case 'H':
      return (entry) => `HTTP/${entry.httpVersion}`;
    case 'b':
    case 'B':
      return (entry) => String(bodyBytes(entry));
    case 'f':
      return (entry) => headerValue(entry.requestHeaders, 'referer') ?? '-';
    case 'a':
      return (entry) => headerValue(entry.requestHeaders, 'user-agent') ?? '-';
    case 'T':
      return (entry) => String(Math.floor(entry.durationMs / 1000));
    case 'D':
      return (entry) => String(Math.round(entry.durationMs * 1000));
    case 'M':
      return (entry) => String(Math.round(entry.durationMs));
    case 'L':
      return (entry) => (entry.durationMs / 1000).toFixed(6);
    case 'p':
      return () => `<${String(process.pid)}>`;
    default:
      return () => '-';
  }
}

/** The first value of a header, by lower-case name. */
function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] ?? '').toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function responseHeader(head: string | undefined, name: string): string | undefined {
  if (head === undefined) return undefined;
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** The body's bytes: what went on the wire after the head (chunk framing included). */
function bodyBytes(entry: AccessEntry): number {
  return Math.max(0, entry.bytes - (entry.responseHead === undefined ? 0 : Buffer.byteLength(entry.responseHead, 'latin1')));
}

function basicUser(authorization: string | undefined): string | undefined {
  if (authorization === undefined || !/^basic /i.test(authorization)) return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(0, colon);
}

function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? '' : target.slice(q + 1);
}

/** The path after the root path, percent-decoded, as PATH_INFO. */
function pathInfo(entry: AccessEntry): string {
  const q = entry.target.indexOf('?');
  let path = q === -1 ? entry.target : entry.target.slice(0, q);
  try {
    path = decodeURIComponent(path);
  } catch {
    // Not valid percent-encoding: shown as it came.
  }
  return entry.rootPath !== '' && path.startsWith(entry.rootPath) ? path.slice(entry.rootPath.length) : path;
}

/** The CGI variables of the request, as a WSGI environ has them (lower-case names). */
function cgiVariable(entry: AccessEntry, name: string): string | undefined {
  switch (name) {
    case 'remote_addr':
      return entry.client;
    case 'remote_port':
      return entry.clientPort === 0 ? undefined : String(entry.clientPort);
    case 'request_method':
      return entry.method;
    case 'raw_uri':
      return entry.target;
    case 'path_info':
      return pathInfo(entry);
    case 'script_name':
      return entry.rootPath;
    case 'query_string':
      return queryOf(entry.target);
    case 'server_protocol':
      return `HTTP/${entry.httpVersion}`;
    case 'server_name':
      return entry.server?.[0];
    case 'server_port':
      return entry.server?.[1] === null || entry.server === null ? undefined : String(entry.server[1]);
    case 'wsgi.url_scheme':
      return entry.scheme;
    case 'content_type':
      return headerValue(entry.requestHeaders, 'content-type');
    case 'content_length':
      return headerValue(entry.requestHeaders, 'content-length');
    // Ours, named as servers name their environ keys (gunicorn.socket): a file of --static.
    case 'bicorn.static':
      return entry.static === true ? 'static' : undefined;
    default:
      return name.startsWith('http_') ? headerValue(entry.requestHeaders, name.slice(5).replaceAll('_', '-')) : undefined;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `10/Oct/2000:13:55:36 -0700`: local time, as gunicorn and Apache write it. */
export function apacheTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${pad(date.getDate())}/${MONTHS[date.getMonth()] ?? ''}/${String(date.getFullYear())}:${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}`;
}

// Validates the events an ASGI app passes to send() and turns them into what node:http takes:
// the rules that raise in the app (protocol's send/SPEC.md). Untrusted app output stops here:
// no CR, LF or NUL in a header reaches the wire. Pure; runs in the worker.
import { isByteCount } from './content-length.js';

export type ResponseEvent =
  | { readonly kind: 'start'; readonly status: number; readonly headers: string[]; readonly trailers: boolean }
  | { readonly kind: 'body'; readonly body: Buffer; readonly more: boolean }
  | { readonly kind: 'trailers'; readonly headers: string[]; readonly more: boolean }
  | { readonly kind: 'pathsend'; readonly path: string }
  | { readonly kind: 'early_hint'; readonly links: string[] };

const START = 'http.response.start';
const BODY = 'http.response.body';
const TRAILERS = 'http.response.trailers';
const PATHSEND = 'http.response.pathsend';
const EARLY_HINT = 'http.response.early_hint';
const EMPTY = Buffer.alloc(0);

// RFC 9110 tchar; node:http refuses anything else in a header name.
const TOKEN = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[char.charCodeAt(0)] = 1;
}
/** The longest header name or value latin1() turns into text without a Buffer. */
const SHORT_TEXT = 256;

/**
 * An app's event, as read here: any field may be there, of any type, and an absent one reads as
 * undefined, which ASGI takes for the same. Each field is read where it is checked, so that
 * every read site learns its own few shapes: one shared read of any name went megamorphic.
 */
export type AppEvent = Readonly<Record<string, unknown>> & { readonly type: unknown };

export function parseSendEvent(event: unknown): ResponseEvent {
  if (!isEvent(event)) throw new TypeError(`send: event must be an object with a type, got ${describe(event)}`);
  switch (event.type) {
    case START:
      return parseResponseStart(event, START);
    case BODY:
      return parseResponseBody(event, BODY);
    case TRAILERS: {
      const more = event.more_trailers;
      if (more !== undefined && typeof more !== 'boolean') throw new TypeError(`${TRAILERS}: more_trailers must be a boolean, got ${describe(more)}`);
      return { kind: 'trailers', headers: parseHeaders(event.headers, TRAILERS), more: more === true };
    }
    case PATHSEND: {
      const path = event.path;
      if (typeof path !== 'string' || !path.startsWith('/') || path.includes('\0')) {
        throw new TypeError(`${PATHSEND}: path must be an absolute file path string, got ${describe(path)}`);
      }
      return { kind: 'pathsend', path };
    }
    case EARLY_HINT:
      return { kind: 'early_hint', links: parseLinks(event.links) };
    default:
      throw new TypeError(`send: unknown event type ${describe(event.type)}; expected one of the http.response.* events`);
  }
}

/** `http.response.start`, or the same event under another name (`websocket.http.response.start`). */
export function parseResponseStart(event: AppEvent, type: string): Extract<ResponseEvent, { kind: 'start' }> {
  const status = event.status;
  // Informational (1xx) responses are not final; 103 Early Hints comes as its own extension.
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError(`${type}: status must be an integer from 200 to 599, got ${describe(status)}`);
  }
  const trailers = event.trailers;
  if (trailers !== undefined && typeof trailers !== 'boolean') {
    throw new TypeError(`${type}: trailers must be a boolean, got ${describe(trailers)}`);
  }
  return { kind: 'start', status, headers: parseHeaders(event.headers, type), trailers: trailers === true };
}

/** `http.response.body`, or the same event under another name (`websocket.http.response.body`). */
export function parseResponseBody(event: AppEvent, type: string): Extract<ResponseEvent, { kind: 'body' }> {
  const body = event.body;
  if (body !== undefined && !(body instanceof Uint8Array)) {
    throw new TypeError(`${type}: body must be a byte string (Uint8Array), got ${describe(body)}`);
  }
  const more = event.more_body;
  if (more !== undefined && typeof more !== 'boolean') {
    throw new TypeError(`${type}: more_body must be a boolean, got ${describe(more)}`);
  }
  return { kind: 'body', body: body === undefined ? EMPTY : asBuffer(body), more: more === true };
}

export function isEvent(event: unknown): event is AppEvent {
  return typeof event === 'object' && event !== null && 'type' in event;
}

function parseLinks(links: unknown): string[] {
  if (!isIterable(links) || typeof links === 'string') {
    throw new TypeError(`${EARLY_HINT}: links must be an iterable of byte strings, got ${describe(links)}`);
  }
  const parsed: string[] = [];
  let index = 0;
  for (const link of links) {
    if (!(link instanceof Uint8Array)) throw new TypeError(`${EARLY_HINT}: links[${String(index)}] must be a byte string (Uint8Array), got ${describe(link)}`);
    parsed.push(headerValue(link, EARLY_HINT, 'links', index, ''));
    index++;
  }
  return parsed;
}

/** Header pairs as node:http takes them, flat; `type` names the event in error messages. */
export function parseHeaders(headers: unknown, type: string): string[] {
  if (headers === undefined) return [];
  if (!isIterable(headers)) {
    throw new TypeError(`${type}: headers must be an iterable of [name, value] byte-string pairs, got ${describe(headers)}`);
  }
  const flat: string[] = [];
  let index = 0;
  let lengths = 0;
  for (const pair of headers) {
    if (!isPair(pair)) {
      throw new TypeError(`${type}: headers[${String(index)}] must be a [name, value] pair, got ${describe(pair)}`);
    }
    const name = headerName(pair[0], type, 'headers', index);
    const value = headerValue(pair[1], type, 'headers', index, ' value');
    // Content-Length frames the body, so it must never disagree with what is sent; whether the
    // body keeps to it is the worker's to check as it goes (content-length.ts).
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (!isByteCount(value)) throw new TypeError(`${type}: headers[${String(index)}] content-length must be a number of bytes, got "${value}"`);
      if (++lengths > 1) throw new TypeError(`${type}: headers[${String(index)}]: a second content-length; a response has one`);
    }
    flat.push(name, value);
    index++;
  }
  return flat;
}

/** The name of `type`'s `list`[`index`] as latin-1 text, once checked; the place is put together only for an error. */
function headerName(name: unknown, type: string, list: string, index: number): string {
  if (!(name instanceof Uint8Array)) {
    throw new TypeError(`${type}: ${list}[${String(index)}] name must be a byte string (Uint8Array), got ${describe(name)}`);
  }
  const text = latin1(name, 0, name.length);
  if (name.length === 0) throw new TypeError(`${type}: ${list}[${String(index)}] name "" is not an HTTP token`);
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- a Uint8Array's iterator costs more than the check
  for (let i = 0; i < name.length; i++) {
    const byte = name[i] ?? 0;
    if (byte >= 128 || TOKEN[byte] !== 1) {
      throw new TypeError(`${type}: ${list}[${String(index)}] name ${JSON.stringify(text)} is not an HTTP token (byte ${hex(byte)})`);
    }
  }
  return text;
}

/**
 * The value (`type`'s `list`[`index`], then `part` in the errors) as latin-1 text without the
 * spaces and tabs around it (RFC 9110 5.5), once checked.
 */
function headerValue(value: unknown, type: string, list: string, index: number, part: string): string {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${type}: ${list}[${String(index)}]${part} must be a byte string (Uint8Array), got ${describe(value)}`);
  }
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- as in headerName
  for (let i = 0; i < value.length; i++) {
    const byte = value[i] ?? 0;
    // The same set node:http refuses: controls other than tab, and DEL. CR, LF and NUL are the dangerous ones.
    if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) {
      throw new TypeError(`${type}: ${list}[${String(index)}]${part} contains a control character (byte ${hex(byte)}): CR, LF, NUL and the other controls but tab are refused`);
    }
  }
  let start = 0;
  let end = value.length;
  while (start < end && isBlank(value[start])) start++;
  while (end > start && isBlank(value[end - 1])) end--;
  return latin1(value, start, end);
}

function isBlank(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09;
}

function isPair(value: unknown): value is readonly [unknown, unknown] {
  return Array.isArray(value) && value.length === 2;
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value && typeof value[Symbol.iterator] === 'function';
}

/** Header bytes as node's header strings take them: each byte one character (latin-1). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  // A whole short one, as nearly every header is, without a Buffer view made of it: less than
  // half the cost. Its bytes become call arguments, hence the bound.
  if (start === 0 && end === bytes.length && end <= SHORT_TEXT) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return asBuffer(bytes).toString('latin1', start, end);
}

/** Views the bytes as a Buffer without copying them. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${String(value.length)}`;
  if (value instanceof Uint8Array) return `a byte string of length ${String(value.length)}`;
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object':
      break;
  }
  return 'an object';
}

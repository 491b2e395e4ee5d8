// Validates the events an ASGI app passes to send() and turns them into what node:http takes.
// Untrusted app output stops here: no CR, LF or NUL in a header reaches the wire. Pure; runs
// in the worker.

export type ResponseEvent =
  | { readonly kind: 'start'; readonly status: number; readonly headers: string[] }
  | { readonly kind: 'body'; readonly body: Buffer; readonly more: boolean };

const START = 'http.response.start';
const BODY = 'http.response.body';
const EMPTY = Buffer.alloc(0);

// RFC 9110 tchar; node:http refuses anything else in a header name.
const TOKEN = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[char.charCodeAt(0)] = 1;
}

export function parseSendEvent(event: unknown): ResponseEvent {
  if (typeof event !== 'object' || event === null || !('type' in event)) {
    throw new TypeError(`send: event must be an object with a type, got ${describe(event)}`);
  }
  if (event.type === START) {
    const status = 'status' in event ? event.status : undefined;
    // Informational (1xx) responses are not final; 103 Early Hints comes as its own extension.
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
      throw new TypeError(`${START}: status must be an integer 200-599, got ${describe(status)}`);
    }
    const trailers = 'trailers' in event ? event.trailers : undefined;
    if (trailers !== undefined && trailers !== false) {
      throw new TypeError(`${START}: trailers must be false or absent (this server has no http.response.trailers), got ${describe(trailers)}`);
    }
    return { kind: 'start', status, headers: parseHeaders('headers' in event ? event.headers : undefined) };
  }
  if (event.type === BODY) {
    const body = 'body' in event ? event.body : undefined;
    if (body !== undefined && !(body instanceof Uint8Array)) {
      throw new TypeError(`${BODY}: body must be a byte string (Uint8Array), got ${describe(body)}`);
    }
    const more = 'more_body' in event ? event.more_body : undefined;
    if (more !== undefined && typeof more !== 'boolean') {
      throw new TypeError(`${BODY}: more_body must be a boolean, got ${describe(more)}`);
    }
    return { kind: 'body', body: body === undefined ? EMPTY : asBuffer(body), more: more === true };
  }
  throw new TypeError(`send: unknown event type ${describe(event.type)}; expected "${START}" or "${BODY}"`);
}

function parseHeaders(headers: unknown): string[] {
  if (headers === undefined) return [];
  if (!isIterable(headers)) {
    throw new TypeError(`${START}: headers must be an iterable of [name, value] byte-string pairs, got ${describe(headers)}`);
  }
  const flat: string[] = [];
  let index = 0;
  let framing: 'content-length' | 'transfer-encoding' | undefined;
  for (const pair of headers) {
    if (!isPair(pair)) {
      throw new TypeError(`${START}: headers[${String(index)}] must be a [name, value] pair, got ${describe(pair)}`);
    }
    const name = headerName(pair[0], index);
    const value = headerValue(pair[1], index);
    const framingHeader = framingHeaderOf(name, value, index);
    if (framingHeader !== undefined) {
      if (framing !== undefined) {
        throw new TypeError(`${START}: headers[${String(index)}] ${name} after ${framing}: a response is framed by one of them, once`);
      }
      framing = framingHeader;
    }
    flat.push(name, value);
    index++;
  }
  return flat;
}

/** Checks the headers that frame the body, which must never disagree with what is sent. */
function framingHeaderOf(name: string, value: string, index: number): 'content-length' | 'transfer-encoding' | undefined {
  if (name.length !== 14 && name.length !== 17) return undefined;
  const lower = name.toLowerCase();
  if (lower === 'content-length') {
    if (!/^\d{1,15}$/.test(value)) throw new TypeError(`${START}: headers[${String(index)}] content-length must be a number of bytes, got "${value}"`);
    return 'content-length';
  }
  if (lower === 'transfer-encoding') {
    if (value.toLowerCase() !== 'chunked') {
      throw new TypeError(`${START}: headers[${String(index)}] transfer-encoding can only be "chunked" (the server encodes the body), got "${value}"`);
    }
    return 'transfer-encoding';
  }
  return undefined;
}

function headerName(name: unknown, index: number): string {
  if (!(name instanceof Uint8Array)) {
    throw new TypeError(`${START}: headers[${String(index)}] name must be a byte string (Uint8Array), got ${describe(name)}`);
  }
  if (name.length === 0) throw new TypeError(`${START}: headers[${String(index)}] name must not be empty`);
  for (const byte of name) {
    if (byte >= 128 || TOKEN[byte] !== 1) {
      throw new TypeError(`${START}: headers[${String(index)}] name contains byte ${hex(byte)}, which is not allowed in an HTTP header name`);
    }
  }
  return asBuffer(name).toString('latin1');
}

function headerValue(value: unknown, index: number): string {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${START}: headers[${String(index)}] value must be a byte string (Uint8Array), got ${describe(value)}`);
  }
  for (const byte of value) {
    // The same set node:http refuses: controls other than tab, and DEL. CR, LF and NUL are the dangerous ones.
    if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) {
      throw new TypeError(
        `${START}: headers[${String(index)}] value contains byte ${hex(byte)}; CR, LF, NUL and other control characters are refused`,
      );
    }
  }
  return asBuffer(value).toString('latin1');
}

function isPair(value: unknown): value is readonly [unknown, unknown] {
  return Array.isArray(value) && value.length === 2;
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value && typeof value[Symbol.iterator] === 'function';
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

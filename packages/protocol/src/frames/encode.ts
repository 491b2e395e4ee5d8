// Encoding frames for fd 3: one exact-size Buffer per frame, header names and values written
// straight from node's strings (latin-1) without intermediate Buffers. Pure; used by workers.
import { FrameError, FrameType, HEADER_SIZE, MAX_PAYLOAD, REQUEST_HEAD_FIELDS, logSources, type Frame, type TlsHead } from './frame.js';

/** Bytes to send: a Buffer, or a string standing for its latin-1 bytes (as node gives headers). */
export type ByteInput = Buffer | string;

type Encodable<F> = F extends Frame
  ? {
      [K in keyof F]: F[K] extends Buffer
        ? ByteInput
        : K extends 'headers'
          ? readonly ByteInput[] // flat: name, value, name, value… as node's rawHeaders
          : F[K];
    }
  : never;

export type EncodableFrame = Encodable<Frame>;

const MORE = 1;
/** HTTP_REQUEST and WS_CONNECT: the TLS fields follow the headers. */
const TLS = 2;
/** HTTP_REQUEST: the path of the body's file follows (after the TLS fields). */
const BODY_FILE = 4;
/** HTTP_REQUEST and WS_CONNECT: the runner may borrow the client's socket (HTTP_BORROW). */
const LENDABLE = 8;
/** HTTP_REQUEST: the runner holds the body, received from the client's socket (HTTP_RECEIVE). */
const HELD = 16;
const TEXT = 2;
// HTTP_RESPONSE's flags: trailers follow the body.
const TRAILERS = 1;

/** Bodies from this size on are not copied into their frame by encodeFrameParts. */
export const SEPARATE_BODY = 16 * 1024;
const NO_BYTES = Buffer.alloc(0);

/**
 * A frame as buffers to write back to back, the same bytes as encodeFrame's: an upload or
 * WebSocket body of SEPARATE_BODY or more stays where it is, after a buffer with the rest of the
 * frame, instead of being copied (at upload speeds that copy, and the garbage it leaves, were
 * about a sixth of what a worker spent relaying a body).
 */
export function encodeFrameParts(frame: EncodableFrame): Buffer[] {
  if ((frame.type === 'http-body' || frame.type === 'ws-message') && typeof frame.body !== 'string' && frame.body.length >= SEPARATE_BODY) {
    const { body } = frame;
    const head = encodeFrame({ ...frame, body: NO_BYTES });
    const length = head.length - 4 + body.length;
    if (length > HEADER_SIZE - 4 + MAX_PAYLOAD) throw new FrameError(`payload of ${String(length - HEADER_SIZE + 4)} bytes exceeds ${String(MAX_PAYLOAD)}`);
    head.writeUInt32BE(length, 0);
    return [head, body];
  }
  return [encodeFrame(frame)];
}

export function encodeFrame(frame: EncodableFrame): Buffer {
  if (frame.type === 'http-request' || frame.type === 'ws-connect') return encodeRequest(frame);
  const writer = new Writer(payloadSize(frame));
  writer.header(typeCodes[frame.type], frame.stream);
  switch (frame.type) {
    case 'hello':
      writer.u8(frame.version);
      writer.text(frame.pythonVersion);
      break;
    case 'ready':
      writer.text(frame.interface);
      break;
    case 'fatal':
      writer.u8(frame.exitCode);
      writer.text(frame.message);
      break;
    case 'shutdown':
    case 'http-disconnect':
    case 'http-closed':
    case 'http-withdraw':
    case 'http-withdrawn':
    case 'http-borrow':
    case 'http-not-lent':
      break;
    case 'ping':
    case 'pong':
      writer.u32(frame.seq);
      break;
    case 'log':
      writer.u8(logSources.indexOf(frame.source) + 1);
      writer.u8(frame.level);
      writer.text(frame.logger);
      writer.text(frame.text);
      break;
    case 'http-body':
    case 'http-response-body':
      writer.u8(frame.more ? MORE : 0);
      writer.raw(frame.body);
      break;
    case 'http-response':
      writer.u8(frame.trailers ? TRAILERS : 0);
      writer.u16(frame.status);
      writer.headers(frame.headers);
      break;
    case 'http-error':
      writer.text(frame.message);
      break;
    case 'credit':
    case 'http-returned':
      writer.u32(frame.bytes);
      break;
    case 'http-receive':
      writer.u32(frame.length);
      writer.raw(frame.body);
      break;
    case 'http-received':
      writer.u8(frame.more ? MORE : 0);
      writer.u32(frame.bytes);
      break;
    case 'http-trailers':
      writer.headers(frame.headers);
      break;
    case 'http-pathsend':
      writer.bytes(frame.path);
      break;
    case 'http-early-hint':
      writer.u32(frame.links.length);
      for (const link of frame.links) writer.bytes(link);
      break;
    case 'ws-accept':
      writer.text(frame.subprotocol);
      writer.headers(frame.headers);
      break;
    case 'ws-message':
      writer.u8((frame.more ? MORE : 0) | (frame.text ? TEXT : 0));
      writer.raw(frame.body);
      break;
    case 'ws-close':
      writer.u16(frame.code);
      writer.text(frame.reason);
      break;
  }
  return writer.done();
}

const typeCodes: Readonly<Record<Frame['type'], number>> = {
  hello: FrameType.Hello,
  ready: FrameType.Ready,
  fatal: FrameType.Fatal,
  shutdown: FrameType.Shutdown,
  log: FrameType.Log,
  ping: FrameType.Ping,
  pong: FrameType.Pong,
  'http-request': FrameType.HttpRequest,
  'http-body': FrameType.HttpBody,
  'http-disconnect': FrameType.HttpDisconnect,
  'http-response': FrameType.HttpResponse,
  'http-response-body': FrameType.HttpResponseBody,
  'http-error': FrameType.HttpError,
  credit: FrameType.Credit,
  'http-trailers': FrameType.HttpTrailers,
  'http-pathsend': FrameType.HttpPathsend,
  'http-early-hint': FrameType.HttpEarlyHint,
  'http-closed': FrameType.HttpClosed,
  'http-withdraw': FrameType.HttpWithdraw,
  'http-withdrawn': FrameType.HttpWithdrawn,
  'http-borrow': FrameType.HttpBorrow,
  'http-not-lent': FrameType.HttpNotLent,
  'http-returned': FrameType.HttpReturned,
  'http-receive': FrameType.HttpReceive,
  'http-received': FrameType.HttpReceived,
  'ws-connect': FrameType.WsConnect,
  'ws-accept': FrameType.WsAccept,
  'ws-message': FrameType.WsMessage,
  'ws-close': FrameType.WsClose,
};

type RequestFrame = Extract<EncodableFrame, { type: 'http-request' | 'ws-connect' }>;

/**
 * HTTP_REQUEST or WS_CONNECT: the flags, the ports, the header count, every field's length, then
 * every field's bytes (frames/SPEC.md), each text measured once, for the size and its length.
 */
function encodeRequest(frame: RequestFrame): Buffer {
  const { method, scheme, httpVersion, path, queryString, rootPath, client, server, headers, tls } = frame;
  const bodyFile = bodyFileOf(frame);
  if (headers.length % 2 !== 0) throw new FrameError('headers must come in name, value pairs');
  const clientHost = client?.[0] ?? '';
  const serverHost = server?.[0] ?? '';
  const methodLength = utf8Length(method);
  const schemeLength = utf8Length(scheme);
  const versionLength = utf8Length(httpVersion);
  const clientLength = utf8Length(clientHost);
  const serverLength = utf8Length(serverHost);
  // A latin-1 string has one byte per character.
  let fieldBytes = methodLength + schemeLength + versionLength + path.length + queryString.length + rootPath.length + clientLength + serverLength;
  for (const field of headers) fieldBytes += field.length;
  const writer = new Writer(1 + 2 + 2 + 4 + 4 * (REQUEST_HEAD_FIELDS + headers.length) + fieldBytes + tlsSize(tls) + bodyFileSize(bodyFile));
  writer.header(typeCodes[frame.type], frame.stream);
  const request = frame.type === 'http-request';
  writer.u8((request && frame.more ? MORE : 0) | (tls === undefined ? 0 : TLS) | (bodyFile === undefined ? 0 : BODY_FILE) | (frame.lendable === true ? LENDABLE : 0) | (request && frame.held === true ? HELD : 0));
  writer.u16(client?.[1] ?? 0);
  writer.u16(server?.[1] ?? 0);
  writer.u32(headers.length / 2);
  writer.u32(methodLength);
  writer.u32(schemeLength);
  writer.u32(versionLength);
  writer.u32(path.length);
  writer.u32(queryString.length);
  writer.u32(rootPath.length);
  writer.u32(clientLength);
  writer.u32(serverLength);
  for (const field of headers) writer.u32(field.length);
  writer.utf8(method, methodLength);
  writer.utf8(scheme, schemeLength);
  writer.utf8(httpVersion, versionLength);
  writer.raw(path);
  writer.raw(queryString);
  writer.raw(rootPath);
  writer.utf8(clientHost, clientLength);
  writer.utf8(serverHost, serverLength);
  for (const field of headers) writer.raw(field);
  if (tls !== undefined) {
    writer.u16(tls.version);
    writer.u16(tls.cipherSuite);
    writer.text(tls.serverCert);
    writer.text(tls.clientCertName);
    writer.u32(tls.clientCertChain.length);
    for (const cert of tls.clientCertChain) writer.text(cert);
  }
  if (bodyFile !== undefined) writer.bytes(bodyFile);
  return writer.done();
}

function payloadSize(frame: Exclude<EncodableFrame, RequestFrame>): number {
  switch (frame.type) {
    case 'hello':
      return 1 + textSize(frame.pythonVersion);
    case 'ready':
      return textSize(frame.interface);
    case 'fatal':
      return 1 + textSize(frame.message);
    case 'shutdown':
    case 'http-disconnect':
    case 'http-closed':
    case 'http-withdraw':
    case 'http-withdrawn':
    case 'http-borrow':
    case 'http-not-lent':
      return 0;
    case 'log':
      return 2 + textSize(frame.logger) + textSize(frame.text);
    case 'ping':
    case 'pong':
      return 4;
    case 'http-body':
    case 'http-response-body':
      return 1 + frame.body.length;
    case 'http-response':
      return 3 + headersSize(frame.headers);
    case 'http-error':
      return textSize(frame.message);
    case 'credit':
    case 'http-returned':
      return 4;
    case 'http-receive':
      return 4 + frame.body.length;
    case 'http-received':
      return 5;
    case 'http-trailers':
      return headersSize(frame.headers);
    case 'http-pathsend':
      return bytesSize(frame.path);
    case 'http-early-hint':
      return frame.links.reduce((size, link) => size + bytesSize(link), 4);
    case 'ws-accept':
      return textSize(frame.subprotocol) + headersSize(frame.headers);
    case 'ws-message':
      return 1 + frame.body.length;
    case 'ws-close':
      return 2 + textSize(frame.reason);
  }
}

const textSize = (text: string): number => 4 + utf8Length(text);

/**
 * Strings up to this length are measured and written here, a character at a time: for the
 * short fields of a request (method, version, addresses, most header names and values) a call
 * into node's buffer code costs more than the copy.
 */
const BY_HAND = 32;

function utf8Length(text: string): number {
  if (text.length > BY_HAND) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

function tlsSize(tls: TlsHead | undefined): number {
  if (tls === undefined) return 0;
  let size = 2 + 2 + textSize(tls.serverCert) + textSize(tls.clientCertName) + 4;
  for (const cert of tls.clientCertChain) size += textSize(cert);
  return size;
}

/** An HTTP_REQUEST's body file, if it has one (WS_CONNECT never does). */
function bodyFileOf(frame: RequestFrame): Buffer | undefined {
  return frame.type === 'http-request' ? frame.bodyFile : undefined;
}

const bodyFileSize = (path: Buffer | undefined): number => (path === undefined ? 0 : bytesSize(path));
// A latin-1 string has one byte per character.
const bytesSize = (bytes: ByteInput): number => 4 + bytes.length;

function headersSize(headers: readonly ByteInput[]): number {
  if (headers.length % 2 !== 0) throw new FrameError('headers must come in name, value pairs');
  let size = 4;
  for (const field of headers) size += 4 + field.length;
  return size;
}

class Writer {
  readonly #buffer: Buffer;
  #at = 0;

  constructor(payload: number) {
    if (payload > MAX_PAYLOAD) throw new FrameError(`payload of ${String(payload)} bytes exceeds ${String(MAX_PAYLOAD)}`);
    this.#buffer = Buffer.allocUnsafe(HEADER_SIZE + payload);
  }

  header(type: number, stream: number): void {
    this.u32(this.#buffer.length - 4);
    this.u8(type);
    this.u32(stream);
  }

  u8(value: number): void {
    this.#at = this.#buffer.writeUInt8(value, this.#at);
  }

  u16(value: number): void {
    this.#at = this.#buffer.writeUInt16BE(value, this.#at);
  }

  u32(value: number): void {
    this.#at = this.#buffer.writeUInt32BE(value, this.#at);
  }

  text(value: string): void {
    const length = utf8Length(value);
    this.u32(length);
    this.utf8(value, length);
  }

  bytes(value: ByteInput): void {
    this.u32(value.length);
    this.raw(value);
  }

  raw(value: ByteInput): void {
    if (typeof value !== 'string') this.#at += value.copy(this.#buffer, this.#at);
    else if (value.length > BY_HAND) this.#at += this.#buffer.write(value, this.#at, 'latin1');
    else {
      // A character's low byte, as node's latin-1 writes it.
      const buffer = this.#buffer;
      let at = this.#at;
      for (let i = 0; i < value.length; i++) buffer[at++] = value.charCodeAt(i);
      this.#at = at;
    }
  }

  /** `length`: the text's UTF-8 bytes, as utf8Length measured them. */
  utf8(value: string, length: number): void {
    // Only ASCII has as many bytes as characters: it is latin-1 too.
    if (length === value.length) this.raw(value);
    else this.#at += this.#buffer.write(value, this.#at, 'utf8');
  }

  headers(flat: readonly ByteInput[]): void {
    this.u32(flat.length / 2);
    for (const field of flat) this.bytes(field);
  }

  done(): Buffer {
    if (this.#at !== this.#buffer.length) throw new FrameError('frame size mismatch');
    return this.#buffer;
  }
}

// Decoding frames from the byte stream of fd 3: an incremental reader that hands out whole
// frames, bodies as views of the bytes received (no copy when a frame arrived in one chunk, nor
// for a response body frame with MORE that did not).
import { FrameError, FrameType, HEADER_SIZE, MAX_PAYLOAD, REQUEST_HEAD_FIELDS, logSources, type Address, type Frame, type LogSource, type RequestHead, type TlsHead } from './frame.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
// HTTP_RESPONSE's flags: trailers follow the body.
const TRAILERS = 1;
const TLS = 2;
const BODY_FILE = 4;
const LENDABLE = 8;
const HELD = 16;
/** A body frame's header and its flags byte: what comes before the body bytes. */
const BODY_START = HEADER_SIZE + 1;

export class FrameReader {
  /** The start of a frame that has not wholly arrived: its bytes so far, in one buffer. */
  #partial: Buffer | undefined;
  #filled = 0;
  /** An HTTP_RESPONSE_BODY frame with MORE being handed out as it arrives: its stream and the body bytes still to come. */
  #body: { readonly stream: number; left: number } | undefined;

  /**
   * Calls `onFrame` for every whole frame in what has arrived; throws FrameError on bad input.
   * An HTTP_RESPONSE_BODY frame with MORE that arrives in several chunks comes out as one such
   * frame per chunk, each with MORE and its part of the body: the same body, in the same order,
   * without gathering its parts into one buffer (the runner sends 256 KiB frames; a socket read
   * gives 64 KiB).
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let data: Buffer | undefined = chunk;
    if (this.#body !== undefined) data = this.#continueBody(data, onFrame);
    else if (this.#partial !== undefined) data = this.#fill(data, onFrame);
    if (data === undefined) return;
    // Each whole frame read where it lies in the chunk: no view of it is made but its body's.
    let at = 0;
    while (data.length - at >= 4) {
      const end = at + 4 + frameLength(data, at);
      if (data.length < end) break;
      onFrame(decodeFrameAt(data, at, end));
      at = end;
    }
    if (at === data.length) return;
    const rest = at === 0 ? data : data.subarray(at);
    if (isResponseBodyWithMore(rest)) this.#startBody(rest, onFrame);
    else this.#startPartial(rest);
  }

  /** The first part of a response body frame with MORE, whose header has arrived but not all of its body. */
  #startBody(data: Buffer, onFrame: (frame: Frame) => void): void {
    const stream = data.readUInt32BE(5);
    this.#body = { stream, left: 4 + frameLength(data) - data.length };
    if (data.length > BODY_START) onFrame({ type: 'http-response-body', stream, more: true, body: data.subarray(BODY_START) });
  }

  /** Hands out the next part of the body under way; returns what is left of `data` once it is all out, else undefined. */
  #continueBody(data: Buffer, onFrame: (frame: Frame) => void): Buffer | undefined {
    const body = this.#body;
    if (body === undefined) return data;
    const taken = Math.min(body.left, data.length);
    if (taken === 0) return undefined;
    body.left -= taken;
    onFrame({ type: 'http-response-body', stream: body.stream, more: true, body: data.subarray(0, taken) });
    if (body.left > 0) return undefined;
    this.#body = undefined;
    return data.subarray(taken);
  }

  /**
   * Keeps the start of a frame in a buffer of the frame's final size (4 bytes until its length
   * is known), so a large frame split over many chunks is copied once, not once per chunk.
   */
  #startPartial(data: Buffer): void {
    this.#partial = Buffer.allocUnsafe(data.length >= 4 ? 4 + frameLength(data) : 4);
    this.#filled = data.copy(this.#partial);
  }

  /** Adds to the partial frame; returns what is left of `data` once the frame is whole, else undefined. */
  #fill(data: Buffer, onFrame: (frame: Frame) => void): Buffer | undefined {
    let partial = this.#partial;
    if (partial === undefined) return data;
    if (partial.length === 4 && this.#filled < 4) {
      const taken = data.copy(partial, this.#filled, 0, 4 - this.#filled);
      this.#filled += taken;
      data = data.subarray(taken);
      if (this.#filled < 4) return undefined;
      const sized = Buffer.allocUnsafe(4 + frameLength(partial));
      partial.copy(sized);
      partial = this.#partial = sized;
    }
    const taken = data.copy(partial, this.#filled, 0, partial.length - this.#filled);
    this.#filled += taken;
    if (this.#filled < partial.length) return undefined;
    this.#partial = undefined;
    this.#filled = 0;
    onFrame(decodeFrame(partial));
    return data.subarray(taken);
  }
}

/** `data` starts with an HTTP_RESPONSE_BODY frame with MORE whose header and flags have arrived. */
function isResponseBodyWithMore(data: Buffer): boolean {
  return data.length >= BODY_START && data[4] === FrameType.HttpResponseBody && ((data[HEADER_SIZE] ?? 0) & 1) === 1;
}

/** The length field of the frame at `at`, checked. */
function frameLength(data: Buffer, at = 0): number {
  const length = data.readUInt32BE(at);
  if (length < HEADER_SIZE - 4 || length > HEADER_SIZE - 4 + MAX_PAYLOAD) {
    throw new FrameError(`frame length ${String(length)} out of bounds`);
  }
  return length;
}

/** Decodes exactly one frame, the whole of `bytes`. */
export function decodeFrame(bytes: Buffer): Frame {
  return decodeFrameAt(bytes, 0, bytes.length);
}

/** Decodes exactly one frame, `bytes` from `start` to `end`. */
function decodeFrameAt(bytes: Buffer, start: number, end: number): Frame {
  if (end - start < HEADER_SIZE || bytes.readUInt32BE(start) !== end - start - 4) throw new FrameError('truncated frame');
  const cursor = new Cursor(bytes, start + HEADER_SIZE, end);
  const stream = bytes.readUInt32BE(start + 5);
  const frame = decodePayload(bytes[start + 4] ?? 0, stream, cursor);
  if (!cursor.atEnd()) throw new FrameError(`trailing bytes after a ${frame.type} frame`);
  return frame;
}

function decodePayload(type: number, stream: number, c: Cursor): Frame {
  switch (type) {
    case FrameType.Hello:
      return { type: 'hello', stream: control(stream), version: c.u8(), pythonVersion: c.text() };
    case FrameType.Ready:
      return { type: 'ready', stream: control(stream), interface: c.text() };
    case FrameType.Fatal:
      return { type: 'fatal', stream: control(stream), exitCode: c.u8(), message: c.text() };
    case FrameType.Shutdown:
      return { type: 'shutdown', stream: control(stream) };
    case FrameType.Log:
      return { type: 'log', stream: control(stream), source: logSource(c.u8()), level: c.u8(), logger: c.text(), text: c.text() };
    case FrameType.Ping:
      return { type: 'ping', stream: control(stream), seq: c.u32() };
    case FrameType.Pong:
      return { type: 'pong', stream: control(stream), seq: c.u32() };
    case FrameType.HttpRequest:
    case FrameType.WsConnect: {
      const flags = c.u8();
      const more = (flags & 1) === 1;
      const head = { stream, ...c.requestHead(), ...((flags & TLS) === 0 ? {} : { tls: c.tlsHead() }) };
      if (type === FrameType.WsConnect) return { type: 'ws-connect', ...head, ...((flags & LENDABLE) === 0 ? {} : { lendable: true }) };
      return { type: 'http-request', more, ...head, ...((flags & BODY_FILE) === 0 ? {} : { bodyFile: c.bytes() }), ...((flags & LENDABLE) === 0 ? {} : { lendable: true }), ...((flags & HELD) === 0 ? {} : { held: true }) };
    }
    case FrameType.HttpBody:
      return { type: 'http-body', stream, more: c.more(), body: c.rest() };
    case FrameType.HttpDisconnect:
      return { type: 'http-disconnect', stream };
    case FrameType.HttpClosed:
      return { type: 'http-closed', stream };
    case FrameType.HttpWithdraw:
      return { type: 'http-withdraw', stream };
    case FrameType.HttpWithdrawn:
      return { type: 'http-withdrawn', stream };
    case FrameType.HttpBorrow:
      return { type: 'http-borrow', stream };
    case FrameType.HttpNotLent:
      return { type: 'http-not-lent', stream };
    case FrameType.HttpReturned:
      return { type: 'http-returned', stream, bytes: c.u32() };
    case FrameType.HttpReceive:
      return { type: 'http-receive', stream, length: c.u32(), body: c.rest() };
    case FrameType.HttpReceived:
      return { type: 'http-received', stream, more: c.more(), bytes: c.u32() };
    case FrameType.HttpResponse:
      return { type: 'http-response', stream, trailers: (c.u8() & TRAILERS) !== 0, status: c.u16(), headers: c.headers() };
    case FrameType.HttpResponseBody:
      return { type: 'http-response-body', stream, more: c.more(), body: c.rest() };
    case FrameType.HttpError:
      return { type: 'http-error', stream, message: c.text() };
    case FrameType.Credit:
      return { type: 'credit', stream, bytes: c.u32() };
    case FrameType.HttpTrailers:
      return { type: 'http-trailers', stream, headers: c.headers() };
    case FrameType.HttpPathsend:
      return { type: 'http-pathsend', stream, path: c.bytes() };
    case FrameType.HttpEarlyHint: {
      const links: Buffer[] = [];
      for (let count = c.u32(); count > 0; count--) links.push(c.bytes());
      return { type: 'http-early-hint', stream, links };
    }
    case FrameType.WsAccept:
      return { type: 'ws-accept', stream, subprotocol: c.text(), headers: c.headers() };
    case FrameType.WsMessage: {
      const flags = c.u8();
      return { type: 'ws-message', stream, more: (flags & 1) === 1, text: (flags & 2) === 2, body: c.rest() };
    }
    case FrameType.WsClose:
      return { type: 'ws-close', stream, code: c.u16(), reason: c.text() };
    default:
      throw new FrameError(`unknown frame type 0x${type.toString(16)}`);
  }
}

function control(stream: number): 0 {
  if (stream !== 0) throw new FrameError(`a control frame on stream ${String(stream)}`);
  return 0;
}

function logSource(code: number): LogSource {
  const source = logSources[code - 1];
  if (source === undefined) throw new FrameError(`unknown log source ${String(code)}`);
  return source;
}

function textOf(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new FrameError('text field is not UTF-8');
  }
}

/** An empty host is an unknown address. */
function addressOf(host: string, port: number): Address | null {
  return host === '' ? null : [host, port];
}

/** Reads the fields of a payload, `buffer` from `start` to `end`. */
class Cursor {
  #at: number;
  constructor(
    private readonly buffer: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.#at = start;
  }

  atEnd(): boolean {
    return this.#at === this.end;
  }

  #take(n: number): number {
    const at = this.#at;
    if (at + n > this.end) throw new FrameError('payload shorter than its fields');
    this.#at += n;
    return at;
  }

  u8(): number {
    return this.buffer.readUInt8(this.#take(1));
  }

  u16(): number {
    return this.buffer.readUInt16BE(this.#take(2));
  }

  u32(): number {
    return this.buffer.readUInt32BE(this.#take(4));
  }

  more(): boolean {
    return (this.u8() & 1) === 1;
  }

  bytes(): Buffer {
    const length = this.u32();
    const at = this.#take(length);
    return this.buffer.subarray(at, at + length);
  }

  text(): string {
    return textOf(this.bytes());
  }

  /** HTTP_REQUEST's and WS_CONNECT's head after the flags: ports, header count, every length, then the fields' bytes. */
  requestHead(): Omit<RequestHead, 'stream' | 'tls'> {
    const clientPort = this.u16();
    const serverPort = this.u16();
    const count = this.u32();
    const lengths = this.#take(4 * (REQUEST_HEAD_FIELDS + 2 * count));
    let field = 0;
    const next = (): Buffer => {
      const length = this.buffer.readUInt32BE(lengths + 4 * field++);
      const at = this.#take(length);
      return this.buffer.subarray(at, at + length);
    };
    const method = textOf(next());
    const scheme = textOf(next());
    const httpVersion = textOf(next());
    const path = next();
    const queryString = next();
    const rootPath = next();
    const client = addressOf(textOf(next()), clientPort);
    const server = addressOf(textOf(next()), serverPort);
    const headers: string[] = [];
    for (let i = 0; i < 2 * count; i++) headers.push(next().toString('latin1'));
    return { method, scheme, httpVersion, path, queryString, rootPath, client, server, headers };
  }

  tlsHead(): TlsHead {
    const version = this.u16();
    const cipherSuite = this.u16();
    const serverCert = this.text();
    const clientCertName = this.text();
    const chain: string[] = [];
    for (let count = this.u32(); count > 0; count--) chain.push(this.text());
    return { version, cipherSuite, serverCert, clientCertName, clientCertChain: chain };
  }

  /** Names and values, flat, as latin-1 text: what node:http writes them from. */
  headers(): string[] {
    const count = this.u32();
    const flat: string[] = [];
    for (let i = 0; i < 2 * count; i++) {
      const length = this.u32();
      const at = this.#take(length);
      flat.push(this.buffer.toString('latin1', at, at + length));
    }
    return flat;
  }

  rest(): Buffer {
    const at = this.#take(this.end - this.#at);
    return this.buffer.subarray(at, this.end);
  }
}

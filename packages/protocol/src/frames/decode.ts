// Decoding frames from the byte stream of fd 3: an incremental reader that hands out whole
// frames, bodies as views of the bytes received (no copy when a frame arrived in one chunk).
import { FrameError, FrameType, HEADER_SIZE, MAX_PAYLOAD, type Address, type Frame, type HeaderPair } from './frame.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class FrameReader {
  #pending: Buffer | undefined;

  /** Calls `onFrame` for every whole frame in what has arrived; throws FrameError on bad input. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let data = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = undefined;
    while (data.length >= 4) {
      const length = data.readUInt32BE(0);
      if (length < HEADER_SIZE - 4 || length > HEADER_SIZE - 4 + MAX_PAYLOAD) {
        throw new FrameError(`frame length ${String(length)} out of bounds`);
      }
      if (data.length < 4 + length) break;
      onFrame(decodeFrame(data.subarray(0, 4 + length)));
      data = data.subarray(4 + length);
    }
    if (data.length > 0) this.#pending = Buffer.from(data);
  }
}

/** Decodes exactly one frame, the whole of `bytes`. */
export function decodeFrame(bytes: Buffer): Frame {
  if (bytes.length < HEADER_SIZE || bytes.readUInt32BE(0) !== bytes.length - 4) throw new FrameError('truncated frame');
  const cursor = new Cursor(bytes, HEADER_SIZE);
  const stream = bytes.readUInt32BE(5);
  const frame = decodePayload(bytes[4] ?? 0, stream, cursor);
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
    case FrameType.HttpRequest:
      return {
        type: 'http-request',
        stream,
        more: c.more(),
        method: c.text(),
        scheme: c.text(),
        httpVersion: c.text(),
        path: c.bytes(),
        queryString: c.bytes(),
        rootPath: c.bytes(),
        client: c.address(),
        server: c.address(),
        headers: c.headers(),
      };
    case FrameType.HttpBody:
      return { type: 'http-body', stream, more: c.more(), body: c.rest() };
    case FrameType.HttpDisconnect:
      return { type: 'http-disconnect', stream };
    case FrameType.HttpResponse:
      return { type: 'http-response', stream, status: c.u16(), headers: c.headers() };
    case FrameType.HttpResponseBody:
      return { type: 'http-response-body', stream, more: c.more(), body: c.rest() };
    case FrameType.HttpError:
      return { type: 'http-error', stream, message: c.text() };
    case FrameType.Credit:
      return { type: 'credit', stream, bytes: c.u32() };
    default:
      throw new FrameError(`unknown frame type 0x${type.toString(16)}`);
  }
}

function control(stream: number): 0 {
  if (stream !== 0) throw new FrameError(`a control frame on stream ${String(stream)}`);
  return 0;
}

class Cursor {
  #at: number;
  constructor(
    private readonly buffer: Buffer,
    start: number,
  ) {
    this.#at = start;
  }

  atEnd(): boolean {
    return this.#at === this.buffer.length;
  }

  #take(n: number): number {
    const at = this.#at;
    if (at + n > this.buffer.length) throw new FrameError('payload shorter than its fields');
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
    try {
      return utf8.decode(this.bytes());
    } catch {
      throw new FrameError('text field is not UTF-8');
    }
  }

  address(): Address | null {
    const host = this.text();
    const port = this.u16();
    return host === '' ? null : [host, port];
  }

  headers(): HeaderPair[] {
    const count = this.u32();
    const pairs: HeaderPair[] = [];
    for (let i = 0; i < count; i++) pairs.push([this.bytes(), this.bytes()]);
    return pairs;
  }

  rest(): Buffer {
    const at = this.#take(this.buffer.length - this.#at);
    return this.buffer.subarray(at);
  }
}

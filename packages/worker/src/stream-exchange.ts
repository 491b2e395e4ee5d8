// The request and response of one HTTP/2 stream (node:http2's compatibility objects, through
// the classes below), as the front and every app host use them in place of node:http's: the
// response keeps connection-specific fields off the wire (RFC 9113 8.2.2 makes a message with
// them malformed), adds the server's default headers as HTTP/1.1's does, and can be taken over
// by the front (a refusal mid-body, a request timeout) so that nothing the app writes later
// reaches the stream; both count the bytes they move, for the request timeout and the access
// log. Runs in the worker, one pair per stream.
import { constants, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { HeaderField } from './request-rules.js';

type Headers = OutgoingHttpHeaders | OutgoingHttpHeader[];

/** The fields of one connection, which HTTP/2 has none of (TE is allowed only as `trailers`, in requests). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

export class StreamRequest extends Http2ServerRequest {
  /** Body bytes received so far. */
  bodyBytes = 0;
  /** Told of each body chunk, with the bytes received so far. */
  onBody: ((received: number) => void) | undefined;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk instanceof Buffer) {
      this.bodyBytes += chunk.length;
      this.onBody?.(this.bodyBytes);
    }
    return super.push(chunk, encoding);
  }

  /** Resets the stream (INTERNAL_ERROR): a response that had begun is cut. */
  cut(): void {
    this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  /** Closes the stream with NO_ERROR once the front's own answer is sent, so that a client still sending stops (RFC 9113 8.1). */
  closeAfterAnswer(): void {
    if (!this.stream.closed) this.stream.close(constants.NGHTTP2_NO_ERROR);
  }
}

export class StreamResponse extends Http2ServerResponse<StreamRequest> {
  /** Body bytes the app (or the front) wrote. */
  written = 0;
  #defaults: readonly HeaderField[] = [];
  #takenOver = false;

  /** The server's default headers (Server, --header) for a response that does not set them; Date unless `sendDate` is false. */
  useDefaults(defaults: readonly HeaderField[], sendDate: boolean): void {
    this.#defaults = defaults;
    if (!sendDate) this.sendDate = false;
  }

  override writeHead(statusCode: number, reasonOrHeaders?: string | Headers, headers?: Headers): this {
    if (this.#takenOver) return this;
    // HTTP/2 has no reason phrase (node would warn about each one).
    const given = typeof reasonOrHeaders === 'string' ? headers : reasonOrHeaders;
    const object = headerObject(given);
    for (const [name, value] of this.#defaults) if (object[name] === undefined && !this.hasHeader(name)) object[name] = value;
    return super.writeHead(statusCode, object);
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (!CONNECTION_SPECIFIC.has(name.toLowerCase())) super.setHeader(name, value);
    return this;
  }

  override appendHeader(name: string, value: string | string[]): this {
    if (!CONNECTION_SPECIFIC.has(name.toLowerCase())) super.appendHeader(name, value);
    return this;
  }

  /** Takes node:http's forms of trailers too: [name, value] pairs, which node:http2 would read as an object keyed by index. */
  override addTrailers(trailers: OutgoingHttpHeaders | readonly (readonly [string, string])[]): void {
    super.addTrailers(headerObject(isPairs(trailers) ? trailers.flat() : trailers));
  }

  // node's end() writes its chunk through write().
  override write(chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | ((error: Error) => void), callback?: (error: Error) => void): boolean {
    if (this.#takenOver) return true;
    this.written += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encodingOrCallback === 'string' ? encodingOrCallback : 'utf8') : chunk.length;
    if (typeof encodingOrCallback === 'string') return super.write(chunk, encodingOrCallback, callback);
    return super.write(chunk, encodingOrCallback ?? callback);
  }

  override end(chunkOrCallback?: string | Uint8Array | (() => void), encodingOrCallback?: BufferEncoding | (() => void), callback?: () => void): this {
    if (this.#takenOver) return this;
    if (chunkOrCallback === undefined || typeof chunkOrCallback === 'function') return super.end(chunkOrCallback);
    if (typeof encodingOrCallback === 'string') return super.end(chunkOrCallback, encodingOrCallback, callback);
    return super.end(chunkOrCallback, encodingOrCallback ?? callback);
  }

  /** The front answers on its own, while nothing of a response was sent; the app's later writes go nowhere. */
  answerInstead(status: number, headers: readonly string[], body: string): void {
    if (this.headersSent) return;
    this.writeHead(status, [...headers]);
    this.end(body);
    this.#takenOver = true;
  }
}

/** writeHead's headers as node:http2 takes them, an object of lower-case names (a repeated name gets a list), without the connection-specific ones. */
function headerObject(headers: Headers | undefined): OutgoingHttpHeaders {
  const object: OutgoingHttpHeaders = {};
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) addField(object, String(headers[i]), headers[i + 1]);
  } else if (headers !== undefined) {
    for (const name in headers) if (Object.hasOwn(headers, name)) addField(object, name, headers[name]);
  }
  return object;
}

function addField(object: OutgoingHttpHeaders, name: string, value: OutgoingHttpHeader | undefined): void {
  const lower = name.toLowerCase();
  if (value === undefined || CONNECTION_SPECIFIC.has(lower)) return;
  const before = object[lower];
  object[lower] = before === undefined ? value : [...listOf(before), ...listOf(value)];
}

function isPairs(trailers: OutgoingHttpHeaders | readonly (readonly [string, string])[]): trailers is readonly (readonly [string, string])[] {
  return Array.isArray(trailers);
}

function listOf(value: OutgoingHttpHeader): string[] {
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

// What node:http's parser refused, as the status the client gets: node reports an error code
// and the bytes it was parsing, and the rest is read from those bytes. Pure; runs in the
// worker, once per refused connection.
import type { Refusal } from './request-rules.js';

export interface ParseError {
  /** `HPE_*` from llhttp, or ERR_HTTP_REQUEST_TIMEOUT when the head did not come in time. */
  readonly code: string | undefined;
  /** The bytes node was parsing when it stopped, and where in them it stopped. */
  readonly rawPacket: Buffer | undefined;
  readonly bytesParsed: number | undefined;
}

/** A client that went away mid-request (its FIN, or a reset), not a bad request. */
export function isDisconnect(error: ParseError): boolean {
  return error.code === 'HPE_INVALID_EOF_STATE' || error.code === 'ECONNRESET' || error.code === 'EPIPE';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseErrorRefusal(error: ParseError): Refusal {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'no complete request head within header_timeout' };
    case 'HPE_HEADER_OVERFLOW':
      return headOverflow(error);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'chunk extensions too large' };
    case 'HPE_INVALID_VERSION':
      return otherMajorVersion(error) ? { status: 505, reason: 'an HTTP version other than 1.x' } : { status: 400, reason: 'an invalid HTTP version' };
    case 'HPE_INVALID_METHOD':
      // RFC 9110 9.1: a method the server does not know is 501; a malformed one is 400.
      return methodToken(error) === undefined ? { status: 400, reason: 'an invalid method' } : { status: 501, reason: `method ${methodToken(error) ?? ''} not implemented` };
    default:
      return { status: 400, reason: `the request does not parse (${error.code ?? 'unknown error'})` };
  }
}

/**
 * node caps a whole head (line and fields) at maxHeaderSize and says only that it overflowed.
 * The bytes it was reading then tell which part: with a line break in them, the request line
 * was over and a header field overflowed (431); without one, the line was still going (414).
 * A single header field that alone spans a whole read (64 KiB) without a break reads as the
 * line too, and is refused all the same.
 */
function headOverflow(error: ParseError): Refusal {
  const bytes = error.rawPacket;
  const upTo = Math.min(bytes?.length ?? 0, error.bytesParsed ?? Number.POSITIVE_INFINITY);
  if (bytes?.subarray(0, upTo).includes(0x0a) === true) return { status: 431, reason: 'a request head larger than the cap on heads' };
  return { status: 414, reason: 'a request line larger than the cap on heads' };
}

function requestLine(error: ParseError): string {
  const bytes = error.rawPacket ?? Buffer.alloc(0);
  const end = bytes.indexOf(0x0a);
  return bytes.toString('latin1', 0, end === -1 ? Math.min(bytes.length, 8192) : end);
}

function otherMajorVersion(error: ParseError): boolean {
  const match = / HTTP\/(\d+)\./.exec(requestLine(error));
  return match !== null && match[1] !== '1';
}

function methodToken(error: ParseError): string | undefined {
  const line = requestLine(error);
  const space = line.indexOf(' ');
  const method = space === -1 ? '' : line.slice(0, space);
  return TOKEN.test(method) ? method : undefined;
}

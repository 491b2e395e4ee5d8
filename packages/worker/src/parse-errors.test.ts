import { describe, expect, it } from 'vitest';
import { isDisconnect, parseErrorRefusal } from './parse-errors.js';

function status(code: string, bytes = '', bytesParsed?: number): number {
  return parseErrorRefusal({ code, rawPacket: Buffer.from(bytes, 'latin1'), bytesParsed: bytesParsed ?? bytes.length }).status;
}

describe("node's parse errors", () => {
  it('are 400 unless a status says more', () => {
    expect(status('HPE_INVALID_HEADER_TOKEN')).toBe(400);
    expect(status('HPE_UNEXPECTED_CONTENT_LENGTH')).toBe(400);
    expect(status('ERR_HTTP_REQUEST_TIMEOUT')).toBe(408);
    expect(status('HPE_CHUNK_EXTENSIONS_OVERFLOW')).toBe(413);
  });

  it('tell a request line over the cap (414) from a head over it (431) by the line breaks in the bytes', () => {
    expect(status('HPE_HEADER_OVERFLOW', `GET /${'a'.repeat(1000)}`)).toBe(414);
    expect(status('HPE_HEADER_OVERFLOW', 'a'.repeat(65536))).toBe(414);
    expect(status('HPE_HEADER_OVERFLOW', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(1000)}`)).toBe(431);
    expect(status('HPE_HEADER_OVERFLOW', `aaa\r\nX-${String(1)}: b\r\n`)).toBe(431);
  });

  it('answer 505 to a major version other than 1 and 400 to a malformed one', () => {
    expect(status('HPE_INVALID_VERSION', 'GET / HTTP/3.0\r\n', 14)).toBe(505);
    expect(status('HPE_INVALID_VERSION', 'GET / HTTP/1.2\r\n', 14)).toBe(400);
    expect(status('HPE_INVALID_VERSION', 'GET / FTP/1.1\r\n', 6)).toBe(400);
  });

  it('answer 501 to a method that is a token node does not know, 400 to one that is not', () => {
    expect(status('HPE_INVALID_METHOD', 'BREW /pot HTTP/1.1\r\n', 0)).toBe(501);
    expect(status('HPE_INVALID_METHOD', 'GE\u00df / HTTP/1.1\r\n', 2)).toBe(400);
  });

  it('count a client leaving mid-request as a disconnect', () => {
    expect(isDisconnect({ code: 'HPE_INVALID_EOF_STATE', rawPacket: undefined, bytesParsed: undefined })).toBe(true);
    expect(isDisconnect({ code: 'HPE_INVALID_METHOD', rawPacket: undefined, bytesParsed: undefined })).toBe(false);
  });
});

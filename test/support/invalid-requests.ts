// Our corpus of requests a server must refuse, written from RFC 9110 and RFC 9112 (a case per
// rule and per limit, request smuggling shapes among them), with the status each must get,
// and a few valid requests that must pass. Replayed against every interface by
// test/front-invalid-requests.test.ts with the limits below.

/** The limits the corpus is written for: small, so that each limit takes a short request. */
export const corpusLimits = ['--limit-request-line', '200', '--limit-request-fields', '20', '--limit-request-field-size', '300', '--limit-request-body', '1000'];

export interface CorpusCase {
  /** The rule, with its section. */
  readonly rule: string;
  /** The bytes, as latin-1. */
  readonly request: string;
  /** What the client must get; a refusal also closes the connection. */
  readonly status: number;
}

const CRLF = '\r\n';
const head = (...lines: string[]): string => lines.join(CRLF) + CRLF + CRLF;
const chunked = (body: string, ...extra: string[]): string => head('POST /c HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', ...extra) + body;

export const validRequests: readonly CorpusCase[] = [
  { rule: 'a plain GET', request: head('GET /ok HTTP/1.1', 'Host: a', 'Connection: close'), status: 200 },
  { rule: 'HTTP/1.0 without Host', request: head('GET /ok HTTP/1.0'), status: 200 },
  { rule: 'OPTIONS with the asterisk form (RFC 9112 3.2.4)', request: head('OPTIONS * HTTP/1.1', 'Host: a', 'Connection: close'), status: 200 },
  { rule: 'the absolute form (RFC 9112 3.2.2)', request: head('GET http://a/ok HTTP/1.1', 'Host: a', 'Connection: close'), status: 200 },
  { rule: 'a chunked body with an allowed trailer', request: chunked(`5${CRLF}hello${CRLF}0${CRLF}Checksum: 1${CRLF}${CRLF}`, 'Connection: close'), status: 200 },
  { rule: 'a body at limit_request_body', request: head('POST /ok HTTP/1.1', 'Host: a', 'Content-Length: 1000', 'Connection: close') + 'x'.repeat(1000), status: 200 },
  { rule: 'a line and fields at their limits', request: head(`GET /${'a'.repeat(200 - 'GET / HTTP/1.1'.length)} HTTP/1.1`, 'Host: a', `X-Long: ${'v'.repeat(300 - 'X-Long: '.length - 2)}`, 'Connection: close', ...Array.from({ length: 17 }, (_, i) => `X-${String(i)}: v`)), status: 200 },
];

export const invalidRequests: readonly CorpusCase[] = [
  // The request line (RFC 9112 3).
  { rule: 'a request line without a target (3)', request: head('GET HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'a request line ended by a bare LF (2.2)', request: `GET / HTTP/1.1\nHost: a${CRLF}${CRLF}`, status: 400 },
  { rule: 'words split by LF instead of SP (3)', request: `GET\n/\nHTTP/1.1${CRLF}Host: a${CRLF}${CRLF}`, status: 400 },
  { rule: 'a method that is not a token (3.1)', request: head('G@T / HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'a method with a byte past ASCII (3.1)', request: head('GET\u00df / HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'a method the server does not know (RFC 9110 9.1)', request: head('BREW /pot HTTP/1.1', 'Host: a'), status: 501 },
  { rule: 'a space inside the target (3.2)', request: head('GET /a b HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'a NUL inside the target (3.2)', request: head('GET /a\u0000b HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'a relative target (3.2)', request: head('GET foo/bar HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'the asterisk form with GET (3.2.4)', request: head('GET * HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'the authority form with GET (3.2.3)', request: head('GET a:80 HTTP/1.1', 'Host: a'), status: 400 },
  { rule: 'CONNECT to a server that is no proxy (RFC 9110 9.3.6)', request: head('CONNECT a:443 HTTP/1.1', 'Host: a:443'), status: 501 },
  { rule: 'a malformed version (2.3)', request: head('GET / HTTP/1.x', 'Host: a'), status: 400 },
  { rule: 'a version that is not HTTP (2.3)', request: head('GET / FTP/1.1', 'Host: a'), status: 400 },
  { rule: 'HTTP/2.0 on an HTTP/1 request line (RFC 9110 6.2)', request: head('GET / HTTP/2.0', 'Host: a'), status: 505 },
  { rule: 'HTTP/0.9 with a version (RFC 9110 6.2)', request: head('GET / HTTP/0.9', 'Host: a'), status: 505 },
  { rule: 'HTTP/3.0 (RFC 9110 6.2)', request: head('GET / HTTP/3.0', 'Host: a'), status: 505 },
  // Fields (RFC 9110 5, RFC 9112 5).
  { rule: 'whitespace between a field name and its colon (5.1)', request: head('GET / HTTP/1.1', 'Host : a'), status: 400 },
  { rule: 'a field line without a colon (5)', request: head('GET / HTTP/1.1', 'Host: a', 'NoColon'), status: 400 },
  { rule: 'an empty field name (5.1)', request: head('GET / HTTP/1.1', 'Host: a', ': v'), status: 400 },
  { rule: 'a field name that is not a token (RFC 9110 5.1)', request: head('GET / HTTP/1.1', 'Host: a', 'X(y): v'), status: 400 },
  { rule: 'obsolete line folding (5.2)', request: head('GET / HTTP/1.1', 'Host: a', 'X-Long: one', ' two'), status: 400 },
  { rule: 'a field ended by a bare LF (2.2)', request: `GET / HTTP/1.1${CRLF}Host: a\nX: b${CRLF}${CRLF}`, status: 400 },
  { rule: 'a bare CR in a field value (2.2)', request: head('GET / HTTP/1.1', 'Host: a', 'X: a\rb'), status: 400 },
  { rule: 'a NUL in a field value (RFC 9110 5.5)', request: head('GET / HTTP/1.1', 'Host: a', 'X: a\u0000b'), status: 400 },
  { rule: 'a BEL in a field value (RFC 9110 5.5)', request: head('GET / HTTP/1.1', 'Host: a', 'X: a\u0007b'), status: 400 },
  { rule: 'a DEL in a field value (RFC 9110 5.5)', request: head('GET / HTTP/1.1', 'Host: a', 'X: a\u007fb'), status: 400 },
  { rule: 'no Host in HTTP/1.1 (3.2)', request: head('GET / HTTP/1.1'), status: 400 },
  { rule: 'two Host fields (3.2)', request: head('GET / HTTP/1.1', 'Host: a', 'Host: evil.example'), status: 400 },
  { rule: 'two Host fields in HTTP/1.0 (3.2)', request: head('GET / HTTP/1.0', 'Host: a', 'Host: a'), status: 400 },
  { rule: 'a Host that is not host[:port] (3.2, RFC 9110 7.2)', request: head('GET / HTTP/1.1', 'Host: a/b'), status: 400 },
  { rule: 'two Content-Type fields (RFC 9110 5.3)', request: head('GET / HTTP/1.1', 'Host: a', 'Content-Type: text/plain', 'Content-Type: text/html'), status: 400 },
  { rule: 'an Expect the server cannot meet (RFC 9110 10.1.1)', request: head('GET / HTTP/1.1', 'Host: a', 'Expect: 200-ok'), status: 417 },
  // Message framing and request smuggling (RFC 9112 6).
  { rule: 'Content-Length and Transfer-Encoding together (6.3)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Transfer-Encoding: chunked') + `0${CRLF}${CRLF}`, status: 400 },
  { rule: 'Transfer-Encoding and Content-Length together (6.3)', request: head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 3') + `0${CRLF}${CRLF}`, status: 400 },
  { rule: 'two equal Content-Length fields (6.3)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Content-Length: 3') + 'abc', status: 400 },
  { rule: 'two different Content-Length fields (6.3)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Content-Length: 2') + 'abc', status: 400 },
  { rule: 'a Content-Length list (6.3)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3, 3') + 'abc', status: 400 },
  { rule: 'a signed Content-Length (8.6)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: +3') + 'abc', status: 400 },
  { rule: 'a negative Content-Length (8.6)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: -1'), status: 400 },
  { rule: 'a Content-Length that is not a number (8.6)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 0x3') + 'abc', status: 400 },
  { rule: 'Transfer-Encoding in HTTP/1.0 (6.1)', request: head('POST / HTTP/1.0', 'Transfer-Encoding: chunked') + `0${CRLF}${CRLF}`, status: 400 },
  { rule: 'chunked not the final coding (6.3)', request: head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked, gzip') + `0${CRLF}${CRLF}`, status: 400 },
  { rule: 'chunked twice (6.1)', request: head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked') + `0${CRLF}${CRLF}`, status: 400 },
  { rule: 'a transfer coding the server does not implement (6.1)', request: head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked') + `0${CRLF}${CRLF}`, status: 501 },
  { rule: 'a chunk size that is not hex (7.1)', request: chunked(`zz${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'a signed chunk size (7.1)', request: chunked(`+5${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'a negative chunk size (7.1)', request: chunked(`-5${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'whitespace before a chunk size (7.1)', request: chunked(` 5${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'an empty chunk size (7.1)', request: chunked(`${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'a chunk size that overflows (7.1)', request: chunked(`fffffffffffffffff${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'chunk data longer than its size (7.1)', request: chunked(`3${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'a chunk size line ended by a bare LF (7.1)', request: chunked(`5\nhello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'a bare CR in a chunk extension (7.1.1)', request: chunked(`5;ext=a\rb${CRLF}hello${CRLF}0${CRLF}${CRLF}`), status: 400 },
  { rule: 'Host in a trailer (RFC 9110 6.5.1)', request: chunked(`5${CRLF}hello${CRLF}0${CRLF}Host: evil.example${CRLF}${CRLF}`), status: 400 },
  { rule: 'Content-Length in a trailer (RFC 9110 6.5.1)', request: chunked(`5${CRLF}hello${CRLF}0${CRLF}Content-Length: 99${CRLF}${CRLF}`), status: 400 },
  { rule: 'Transfer-Encoding in a trailer (RFC 9110 6.5.1)', request: chunked(`5${CRLF}hello${CRLF}0${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}`), status: 400 },
  { rule: 'Authorization in a trailer (RFC 9110 6.5.1)', request: chunked(`5${CRLF}hello${CRLF}0${CRLF}Authorization: Basic YTpi${CRLF}${CRLF}`), status: 400 },
  // The limits (gunicorn's names).
  { rule: 'a request line past limit_request_line', request: head(`GET /${'a'.repeat(200)} HTTP/1.1`, 'Host: a'), status: 414 },
  { rule: "a request line past the cap on a whole head (node's own)", request: head(`GET /${'a'.repeat(20_000)} HTTP/1.1`, 'Host: a'), status: 414 },
  { rule: 'more fields than limit_request_fields', request: head('GET / HTTP/1.1', 'Host: a', ...Array.from({ length: 20 }, (_, i) => `X-${String(i)}: v`)), status: 431 },
  { rule: 'a field past limit_request_field_size', request: head('GET / HTTP/1.1', 'Host: a', `X-Long: ${'v'.repeat(300)}`), status: 431 },
  { rule: "a head past the cap on a whole head (node's own)", request: head('GET / HTTP/1.1', 'Host: a', ...Array.from({ length: 40 }, (_, i) => `X-${String(i)}: ${'v'.repeat(250)}`)), status: 431 },
  { rule: 'a Content-Length past limit_request_body', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1001') + 'x'.repeat(1001), status: 413 },
  { rule: 'a chunked body past limit_request_body', request: chunked(`3e9${CRLF}${'x'.repeat(1001)}${CRLF}0${CRLF}${CRLF}`), status: 413 },
  { rule: 'Expect: 100-continue with a Content-Length past limit_request_body (RFC 9110 10.1.1)', request: head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 5000', 'Expect: 100-continue'), status: 413 },
];

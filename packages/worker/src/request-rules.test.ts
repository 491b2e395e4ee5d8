import { describe, expect, it } from 'vitest';
import { checkRequestHead, checkTrailers, headCap, type RequestHead, type RequestLimits } from './request-rules.js';

const limits: RequestLimits = { line: 4094, fields: 100, fieldSize: 8190, body: null };

function head(overrides: Partial<RequestHead> = {}): RequestHead {
  return { method: 'GET', target: '/', versionMajor: 1, versionMinor: 1, rawHeaders: ['Host', 'example.com'], ...overrides };
}

function status(request: RequestHead, applied: RequestLimits = limits): number {
  const verdict = checkRequestHead(request, applied);
  return verdict.ok ? 200 : verdict.refusal.status;
}

describe('request heads', () => {
  it('lets a plain HTTP/1.1 and HTTP/1.0 request through', () => {
    expect(status(head())).toBe(200);
    expect(status(head({ versionMinor: 0, rawHeaders: [] }))).toBe(200);
  });

  it('answers 505 to a major version other than 1, HTTP/2.0 on a request line included, and takes 2 on an HTTP/2 stream', () => {
    expect(status(head({ versionMajor: 2, versionMinor: 0 }))).toBe(505);
    expect(status(head({ versionMajor: 2, versionMinor: 0, stream: true, rawHeaders: [] }))).toBe(200);
    expect(status(head({ versionMajor: 0, versionMinor: 9 }))).toBe(505);
  });

  it('wants exactly one valid Host in HTTP/1.1 and at most one in HTTP/1.0', () => {
    expect(status(head({ rawHeaders: [] }))).toBe(400);
    expect(status(head({ rawHeaders: ['Host', 'a', 'host', 'b'] }))).toBe(400);
    expect(status(head({ versionMinor: 0, rawHeaders: ['Host', 'a', 'Host', 'a'] }))).toBe(400);
    expect(status(head({ rawHeaders: ['Host', 'a b'] }))).toBe(400);
    expect(status(head({ rawHeaders: ['Host', 'a/b'] }))).toBe(400);
    for (const host of ['example.com:8000', '[::1]:8000', '127.0.0.1', '']) expect(status(head({ rawHeaders: ['Host', host] })), host).toBe(200);
  });

  it('refuses a second Content-Type', () => {
    expect(status(head({ rawHeaders: ['Host', 'a', 'Content-Type', 'text/plain', 'content-type', 'text/html'] }))).toBe(400);
  });

  it('refuses Transfer-Encoding in HTTP/1.0, and codings other than chunked with 501', () => {
    expect(status(head({ method: 'POST', versionMinor: 0, rawHeaders: ['Transfer-Encoding', 'chunked'] }))).toBe(400);
    expect(status(head({ method: 'POST', rawHeaders: ['Host', 'a', 'Transfer-Encoding', 'gzip, chunked'] }))).toBe(501);
    const chunked = checkRequestHead(head({ method: 'POST', rawHeaders: ['Host', 'a', 'Transfer-Encoding', 'Chunked'] }), limits);
    expect(chunked.ok && chunked.fields.chunked).toBe(true);
  });

  it('keeps the asterisk target for OPTIONS', () => {
    expect(status(head({ method: 'OPTIONS', target: '*' }))).toBe(200);
    expect(status(head({ method: 'GET', target: '*' }))).toBe(400);
  });

  it('answers 414 past limit_request_line, counting the line without its CRLF', () => {
    const atLimit = head({ target: `/${'a'.repeat(99 - 'GET  HTTP/1.1'.length - 1)}` });
    expect(atLimit.method.length + atLimit.target.length + 10).toBe(99);
    expect(status(atLimit, { ...limits, line: 99 })).toBe(200);
    expect(status(atLimit, { ...limits, line: 98 })).toBe(414);
    expect(status(head({ target: `/${'a'.repeat(100_000)}` }), { ...limits, line: 0 })).toBe(200);
  });

  it('answers 431 past limit_request_fields and limit_request_field_size', () => {
    const fields = ['Host', 'a', ...Array.from({ length: 3 }, (_, i) => [`X-${String(i)}`, 'v']).flat()];
    expect(status(head({ rawHeaders: fields }), { ...limits, fields: 4 })).toBe(200);
    expect(status(head({ rawHeaders: fields }), { ...limits, fields: 3 })).toBe(431);
    expect(status(head({ rawHeaders: fields }), { ...limits, fields: 0 })).toBe(200);
    // "Accept: */*" and its CRLF are 13 bytes, as gunicorn counts them.
    const accept = head({ rawHeaders: ['Host', 'a', 'Accept', '*/*'] });
    expect(status(accept, { ...limits, fieldSize: 13 })).toBe(200);
    expect(status(accept, { ...limits, fieldSize: 12 })).toBe(431);
    expect(status(head({ rawHeaders: ['Host', 'a', 'X', 'y'.repeat(100_000)] }), { ...limits, fieldSize: 0 })).toBe(200);
  });

  it('answers 413 to a Content-Length over limit_request_body', () => {
    const post = head({ method: 'POST', rawHeaders: ['Host', 'a', 'Content-Length', '1001'] });
    expect(status(post, { ...limits, body: 1000 })).toBe(413);
    expect(status(post, { ...limits, body: 1001 })).toBe(200);
    expect(status(post)).toBe(200);
  });

  it('collects the forwarded headers, repeated lines joined as one list', () => {
    const verdict = checkRequestHead(head({ rawHeaders: ['Host', 'a', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'Forwarded', 'for=3.3.3.3'] }), limits);
    expect(verdict.ok && verdict.fields).toMatchObject({ host: 'a', xForwardedFor: '1.1.1.1, 2.2.2.2', forwarded: 'for=3.3.3.3' });
  });

  it("caps node's whole head at the largest the limits let through, 1 MiB a part for a limit at 0", () => {
    expect(headCap(limits)).toBe(4094 + 100 * 8190);
    expect(headCap({ ...limits, line: 0 })).toBe(1024 * 1024 + 100 * 8190);
    expect(headCap({ ...limits, fields: 0 })).toBe(4094 + 1024 * 1024);
  });
});

describe('request trailers', () => {
  it('refuses the fields RFC 9110 keeps out of trailers', () => {
    for (const name of ['Host', 'Content-Length', 'transfer-encoding', 'Trailer', 'TE', 'Authorization', 'Content-Type', 'X-Forwarded-For', 'Forwarded']) {
      expect(checkTrailers([name, 'x'], limits)?.status, name).toBe(400);
    }
    expect(checkTrailers(['Checksum', 'abc', 'Server-Timing', 'x'], limits)).toBeUndefined();
  });

  it('holds trailers to the field limits', () => {
    expect(checkTrailers(['Checksum', 'a'.repeat(100)], { ...limits, fieldSize: 50 })?.status).toBe(431);
    expect(checkTrailers(['A', '1', 'B', '2'], { ...limits, fields: 1 })?.status).toBe(431);
  });
});

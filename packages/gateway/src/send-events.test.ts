import { describe, expect, it } from 'vitest';
import { parseSendEvent } from './send-events.js';

const b = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parseSendEvent', () => {
  it('turns a start event into a status and flat latin1 headers, repeats kept', () => {
    const parsed = parseSendEvent({
      type: 'http.response.start',
      status: 201,
      headers: [
        [b('Set-Cookie'), b('a=1')],
        [b('set-cookie'), b('b=2')],
        [Buffer.from('x-latin'), Buffer.from([0xe9])],
      ],
    });
    expect(parsed).toEqual({ kind: 'start', status: 201, headers: ['Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'x-latin', 'é'], trailers: false });
  });

  it('turns every byte of a header into the one character of that code, short or long, whole or a view', () => {
    const everyByte = Buffer.from(Array.from({ length: 256 - 0x80 }, (_, i) => 0x80 + i));
    const long = Buffer.alloc(4096, 'v');
    const inLarger = new Uint8Array(Buffer.from('..x-view..'));
    const parsed = parseSendEvent({
      type: 'http.response.start',
      status: 200,
      headers: [
        [b('x-high'), everyByte],
        [b('x-long'), long],
        [inLarger.subarray(2, 8), inLarger.subarray(3, 7)],
      ],
    });
    // Latin-1 as node writes header strings; not windows-1252, which would make 0x80 a euro sign.
    expect(parsed).toMatchObject({ headers: ['x-high', everyByte.toString('latin1'), 'x-long', long.toString('latin1'), 'x-view', '-vie'] });
    expect(everyByte.toString('latin1').charCodeAt(0)).toBe(0x80);
  });

  it('leaves hop-by-hop headers to the wire rules, and trims the spaces and tabs around values', () => {
    const parsed = parseSendEvent({ type: 'http.response.start', status: 200, headers: [[b('Transfer-Encoding'), b('gzip')], [b('x-a'), b(' \t1 2\t ')]] });
    expect(parsed).toMatchObject({ headers: ['Transfer-Encoding', 'gzip', 'x-a', '1 2'] });
  });

  it('parses the extension events: trailers, pathsend and early hints', () => {
    expect(parseSendEvent({ type: 'http.response.start', status: 200, trailers: true })).toMatchObject({ trailers: true });
    expect(parseSendEvent({ type: 'http.response.trailers', headers: [[b('x-sum'), b('1')]], more_trailers: true })).toEqual({ kind: 'trailers', headers: ['x-sum', '1'], more: true });
    expect(parseSendEvent({ type: 'http.response.trailers' })).toEqual({ kind: 'trailers', headers: [], more: false });
    expect(parseSendEvent({ type: 'http.response.pathsend', path: '/srv/a.txt' })).toEqual({ kind: 'pathsend', path: '/srv/a.txt' });
    expect(parseSendEvent({ type: 'http.response.early_hint', links: [b('</a.css>; rel=preload')] })).toEqual({ kind: 'early_hint', links: ['</a.css>; rel=preload'] });
  });

  it('accepts any iterable of pairs and no headers at all', () => {
    const headers = new Set([[b('a'), b('1')]]);
    expect(parseSendEvent({ type: 'http.response.start', status: 204, headers })).toMatchObject({ headers: ['a', '1'] });
    expect(parseSendEvent({ type: 'http.response.start', status: 204 })).toMatchObject({ headers: [] });
  });

  it('defaults the body to empty and more_body to false, without copying the bytes', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const parsed = parseSendEvent({ type: 'http.response.body', body: bytes, more_body: true });
    expect(parsed).toEqual({ kind: 'body', body: Buffer.from([1, 2, 3]), more: true });
    if (parsed.kind !== 'body') throw new Error('expected a body event');
    expect(parsed.body.buffer).toBe(bytes.buffer);
    expect(parseSendEvent({ type: 'http.response.body' })).toEqual({ kind: 'body', body: Buffer.alloc(0), more: false });
  });

  it.each([
    [42, /^send: event must be an object with a type, got number 42$/],
    [{}, /^send: event must be an object with a type/],
    [{ type: 'http.response.push' }, /^send: unknown event type the string "http.response.push"/],
    [{ type: 'http.response.start' }, /^http\.response\.start: status must be an integer from 200 to 599, got undefined$/],
    [{ type: 'http.response.start', status: '200' }, /status must be an integer from 200 to 599, got the string "200"/],
    [{ type: 'http.response.start', status: 200.5 }, /status must be an integer from 200 to 599, got number 200.5/],
    [{ type: 'http.response.start', status: 600 }, /status must be an integer from 200 to 599, got number 600/],
    [{ type: 'http.response.start', status: 103 }, /status must be an integer from 200 to 599, got number 103/],
    [{ type: 'http.response.start', status: 200, headers: [[b('Content-Length'), b('abc')]] }, /headers\[0\] content-length must be a number of bytes, got "abc"/],
    [{ type: 'http.response.start', status: 200, headers: [[b('content-length'), b('2')], [b('Content-Length'), b('2')]] }, /headers\[1\]: a second content-length; a response has one/],
    [{ type: 'http.response.start', status: 200, trailers: 'yes' }, /^http\.response\.start: trailers must be a boolean, got the string "yes"$/],
    [{ type: 'http.response.trailers', more_trailers: 0 }, /^http\.response\.trailers: more_trailers must be a boolean, got number 0$/],
    [{ type: 'http.response.trailers', headers: [[b('x'), b('a\nb')]] }, /^http\.response\.trailers: headers\[0\] value contains a control character \(byte 0x0a\)/],
    [{ type: 'http.response.pathsend', path: 'relative.txt' }, /^http\.response\.pathsend: path must be an absolute file path string/],
    [{ type: 'http.response.pathsend' }, /^http\.response\.pathsend: path must be an absolute file path string, got undefined$/],
    [{ type: 'http.response.early_hint', links: 'x' }, /^http\.response\.early_hint: links must be an iterable of byte strings/],
    [{ type: 'http.response.early_hint', links: ['</a.css>'] }, /^http\.response\.early_hint: links\[0\] must be a byte string/],
    [{ type: 'http.response.early_hint', links: [b('</a.css>\r\nx: y')] }, /^http\.response\.early_hint: links\[0\] contains a control character \(byte 0x0d\)/],
    [{ type: 'http.response.start', status: 200, headers: 5 }, /^http\.response\.start: headers must be an iterable/],
    [{ type: 'http.response.start', status: 200, headers: [[b('a')]] }, /headers\[0\] must be a \[name, value\] pair/],
    [{ type: 'http.response.start', status: 200, headers: [['a', b('1')]] }, /headers\[0\] name must be a byte string \(Uint8Array\), got the string "a"/],
    [{ type: 'http.response.start', status: 200, headers: [[b('a'), '1']] }, /headers\[0\] value must be a byte string/],
    [{ type: 'http.response.start', status: 200, headers: [[b(''), b('1')]] }, /headers\[0\] name "" is not an HTTP token/],
    [{ type: 'http.response.start', status: 200, headers: [[b('a'), b('1')], [b('bad name'), b('1')]] }, /headers\[1\] name "bad name" is not an HTTP token \(byte 0x20\)/],
    [{ type: 'http.response.body', body: 'text' }, /^http\.response\.body: body must be a byte string \(Uint8Array\), got the string "text"$/],
    [{ type: 'http.response.body', more_body: 1 }, /^http\.response\.body: more_body must be a boolean, got number 1$/],
  ])('refuses %j with a message naming the field', (event, message) => {
    expect(() => parseSendEvent(event)).toThrow(message);
    expect(() => parseSendEvent(event)).toThrow(TypeError);
  });

  it.each([
    ['CR LF', 'a\r\nInjected: yes', '0x0d'],
    ['LF', 'a\nb', '0x0a'],
    ['NUL', 'a\0b', '0x00'],
  ])('refuses a header value containing %s', (_label, value, byte) => {
    const event = { type: 'http.response.start', status: 200, headers: [[b('x'), b(value)]] };
    expect(() => parseSendEvent(event)).toThrow(`headers[0] value contains a control character (byte ${byte})`);
  });

  it('refuses CR and LF in a header name', () => {
    const event = { type: 'http.response.start', status: 200, headers: [[b('x\r\ny'), b('1')]] };
    expect(() => parseSendEvent(event)).toThrow('is not an HTTP token (byte 0x0d)');
  });
});

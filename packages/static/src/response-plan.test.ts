import { describe, expect, it } from 'vitest';
import type { FileVersion, StaticFile } from './file-index.js';
import { cacheControl, planResponse, selectVersion, type StaticHeaders } from './response-plan.js';

function version(path: string, size: number, etag: string): FileVersion {
  return { path, size, etag, modifiedS: 1_796_119_200, lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', body: Buffer.alloc(size), stamp: etag };
}

const plain = version('/s/app.css', 1000, '"3e8-1"');
const br = version('/s/app.css.br', 200, '"c8-2"');
const gzip = version('/s/app.css.gz', 300, '"12c-3"');
const found: StaticFile = { kind: 'file', file: plain, br, gzip, contentType: 'text/css; charset=utf-8', hashed: false };
const shared: StaticHeaders = { hashedCacheControl: cacheControl(31_536_000, true), cacheControl: cacheControl(60, false), cors: null };

function plan(headers: Record<string, string>, file: StaticFile = found, head = false, options = shared) {
  const selection = selectVersion(headers, file);
  const result = planResponse(head, headers, file, selection, selection.version, options);
  const map = new Map<string, string>();
  for (let i = 0; i < result.headers.length; i += 2) map.set(result.headers[i] ?? '', result.headers[i + 1] ?? '');
  return { ...result, headers: map, version: selection.version };
}

describe('the response to a static file request', () => {
  it('sends the file with its type, validators, short cache, nosniff and Accept-Ranges', () => {
    const { status, headers, body } = plan({});
    expect(status).toBe(200);
    expect(body).toEqual({ start: 0, end: 999 });
    expect(Object.fromEntries(headers)).toEqual({
      'content-type': 'text/css; charset=utf-8',
      'content-length': '1000',
      etag: '"3e8-1"',
      'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT',
      'cache-control': 'public, max-age=60',
      vary: 'Accept-Encoding',
      'x-content-type-options': 'nosniff',
      'accept-ranges': 'bytes',
    });
  });

  it('sends the brotli or gzip sibling that Accept-Encoding asks for, with its own length and tag', () => {
    const brotli = plan({ 'accept-encoding': 'gzip, br' });
    expect(brotli.version).toBe(br);
    expect(brotli.headers.get('content-encoding')).toBe('br');
    expect(brotli.headers.get('content-length')).toBe('200');
    expect(brotli.headers.get('etag')).toBe('"c8-2"');
    expect(brotli.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(brotli.headers.has('accept-ranges')).toBe(false);
    expect(plan({ 'accept-encoding': 'gzip' }).version).toBe(gzip);
  });

  it('sends no Vary for a file without siblings', () => {
    expect(plan({ 'accept-encoding': 'br' }, { ...found, br: undefined, gzip: undefined }).headers.has('vary')).toBe(false);
  });

  it('serves a Range from the uncompressed file, even when a sibling would be chosen', () => {
    const { status, headers, body, version: sent } = plan({ range: 'bytes=100-199', 'accept-encoding': 'br' });
    expect(status).toBe(206);
    expect(sent).toBe(plain);
    expect(body).toEqual({ start: 100, end: 199 });
    expect(headers.get('content-range')).toBe('bytes 100-199/1000');
    expect(headers.get('content-length')).toBe('100');
    expect(headers.has('content-encoding')).toBe(false);
  });

  it('answers 416 with the size for a range past the end', () => {
    const { status, headers, body } = plan({ range: 'bytes=5000-' });
    expect(status).toBe(416);
    expect(headers.get('content-range')).toBe('bytes */1000');
    expect(body).toBeUndefined();
  });

  it('sends the whole (negotiated) file when If-Range names another version', () => {
    const { status, version: sent } = plan({ range: 'bytes=0-9', 'if-range': '"old"', 'accept-encoding': 'br' });
    expect(status).toBe(200);
    expect(sent).toBe(br);
    expect(plan({ range: 'bytes=0-9', 'if-range': '"3e8-1"' }).status).toBe(206);
  });

  it('answers 304 with the validators and no body', () => {
    const { status, headers, body } = plan({ 'if-none-match': '"3e8-1"' });
    expect(status).toBe(304);
    expect(body).toBeUndefined();
    expect(headers.get('etag')).toBe('"3e8-1"');
    expect(headers.get('cache-control')).toBe('public, max-age=60');
    expect(headers.has('content-length')).toBe(false);
    expect(plan({ 'if-none-match': '"3e8-1"', 'accept-encoding': 'br' }).status).toBe(200);
  });

  it('sends headers without a body for HEAD', () => {
    const { status, headers, body } = plan({}, found, true);
    expect(status).toBe(200);
    expect(headers.get('content-length')).toBe('1000');
    expect(body).toBeUndefined();
  });

  it('gives hashed names the long immutable cache, and adds the CORS origin when set', () => {
    const { headers } = plan({}, { ...found, hashed: true }, false, { ...shared, cors: '*' });
    expect(headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(headers.get('access-control-allow-origin')).toBe('*');
  });

  it('writes max-age 0 as no-cache', () => {
    expect(cacheControl(0, false)).toBe('no-cache');
    expect(cacheControl(0.5, true)).toBe('no-cache');
    expect(cacheControl(3600.7, false)).toBe('public, max-age=3600');
  });

  it('sends an empty file as an empty 200', () => {
    const empty = version('/s/empty.txt', 0, '"0-1"');
    const { status, headers, body } = plan({}, { ...found, file: empty, br: undefined, gzip: undefined });
    expect(status).toBe(200);
    expect(headers.get('content-length')).toBe('0');
    expect(body).toBeUndefined();
  });
});

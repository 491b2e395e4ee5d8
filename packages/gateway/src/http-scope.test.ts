import { describe, expect, it } from 'vitest';
import { buildHttpScope, decodePath, splitTarget, type HttpScopeInput } from './http-scope.js';

const base: HttpScopeInput = {
  method: 'GET',
  target: '/',
  httpVersion: '1.1',
  rawHeaders: [],
  scheme: 'http',
  client: ['127.0.0.1', 50000],
  server: ['127.0.0.1', 8000],
  rootPath: '',
  extensions: {},
};

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('buildHttpScope', () => {
  it('fills the fixed ASGI fields and the addresses', () => {
    const scope = buildHttpScope({ ...base, method: 'POST', httpVersion: '1.0' });
    expect(scope.type).toBe('http');
    expect(scope.asgi).toEqual({ version: '3.0', spec_version: '2.5' });
    expect(scope.http_version).toBe('1.0');
    expect(scope.method).toBe('POST');
    expect(scope.scheme).toBe('http');
    expect(scope.root_path).toBe('');
    expect(scope.client).toEqual(['127.0.0.1', 50000]);
    expect(scope.server).toEqual(['127.0.0.1', 8000]);
    expect('state' in scope).toBe(false);
  });

  it('decodes the path as UTF-8 and keeps raw_path and query_string as wire bytes', () => {
    // "/caf%C3%A9 x" with a raw UTF-8 "é" in the second segment, as node gives it (latin1).
    const target = `/caf%C3%A9/${Buffer.from('é').toString('latin1')}%20x?q=%C3%A9&a=1`;
    const scope = buildHttpScope({ ...base, target });
    expect(scope.path).toBe('/café/é x');
    expect(Buffer.from(scope.raw_path)).toEqual(Buffer.from('/caf%C3%A9/é%20x', 'utf8'));
    expect(text(scope.query_string)).toBe('q=%C3%A9&a=1');
  });

  it('lower-cases header names and keeps their order and repeats', () => {
    const scope = buildHttpScope({
      ...base,
      rawHeaders: ['Host', 'example.com', 'X-Thing', 'a', 'x-thing', 'b', 'Cookie', 'k=v'],
    });
    expect(scope.headers.map(([name, value]) => [text(name), text(value)])).toEqual([
      ['host', 'example.com'],
      ['x-thing', 'a'],
      ['x-thing', 'b'],
      ['cookie', 'k=v'],
    ]);
  });

  it('puts the root path in front of path and raw_path, like uvicorn', () => {
    const scope = buildHttpScope({ ...base, target: '/users?id=1', rootPath: '/api' });
    expect(scope.root_path).toBe('/api');
    expect(scope.path).toBe('/api/users');
    expect(text(scope.raw_path)).toBe('/api/users');
  });

  it('gives each request its own shallow copy of the state', () => {
    const state = { db: 'pool' };
    const scope = buildHttpScope({ ...base, state });
    expect(scope.state).toEqual(state);
    expect(scope.state).not.toBe(state);
  });
});

describe('splitTarget', () => {
  it('splits an origin-form target at its first ?', () => {
    expect(splitTarget('/a/b?x=1&y=/z?')).toEqual({ path: '/a/b', query: 'x=1&y=/z?' });
    expect(splitTarget('/plain')).toEqual({ path: '/plain', query: '' });
    expect(splitTarget('/?')).toEqual({ path: '/', query: '' });
    expect(splitTarget('*')).toEqual({ path: '*', query: '' });
  });

  it('keeps only the path and query of an absolute-form target, as a proxy client sends it', () => {
    expect(splitTarget('http://example.com/path?q')).toEqual({ path: '/path', query: 'q' });
    expect(splitTarget('https://user@example.com:8443/a/b')).toEqual({ path: '/a/b', query: '' });
    expect(splitTarget('http://example.com')).toEqual({ path: '/', query: '' });
    // The authority ends at a ? as well: a / in the query is no path.
    expect(splitTarget('http://example.com?next=/home')).toEqual({ path: '/', query: 'next=/home' });
  });
});

describe('decodePath', () => {
  it('leaves malformed escapes as they are and replaces invalid UTF-8', () => {
    expect(decodePath('/100%zz/%4')).toBe('/100%zz/%4');
    expect(decodePath('/%FF')).toBe('/\uFFFD');
    expect(decodePath('/a%2Fb')).toBe('/a/b');
  });
});

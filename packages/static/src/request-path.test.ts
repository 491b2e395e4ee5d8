import { describe, expect, it } from 'vitest';
import { decodeSegment, matchPath, prefixSegments } from './request-path.js';

const mounts = [prefixSegments('/static/admin/'), prefixSegments('/static/'), prefixSegments('/')];
const staticOnly = [prefixSegments('/static/')];
const match = (target: string, root = '') => matchPath(target, prefixSegments(root), staticOnly);

describe('matching a request path to a static mount', () => {
  it('gives the decoded segments under the longest matching prefix', () => {
    expect(matchPath('/static/admin/css/base.css', [], mounts)).toEqual({ kind: 'file', mount: 0, segments: ['css', 'base.css'], directory: false });
    expect(matchPath('/static/app.css?v=3', [], mounts)).toEqual({ kind: 'file', mount: 1, segments: ['app.css'], directory: false });
    expect(matchPath('/robots.txt', [], mounts)).toEqual({ kind: 'file', mount: 2, segments: ['robots.txt'], directory: false });
    expect(match('/static/caf%C3%A9%20noir.css')).toEqual({ kind: 'file', mount: 0, segments: ['café noir.css'], directory: false });
  });

  it('leaves paths under no mount, and absolute-form targets, to the app', () => {
    expect(match('/staticfiles/app.css')).toEqual({ kind: 'none' });
    expect(match('/api/static/app.css')).toEqual({ kind: 'none' });
    expect(match('http://example.com/static/app.css')).toEqual({ kind: 'none' });
    expect(match('*')).toEqual({ kind: 'none' });
  });

  it('matches the prefix on the decoded path', () => {
    expect(match('/st%61tic/app.css')).toMatchObject({ kind: 'file', segments: ['app.css'] });
  });

  it('calls a path that ends at a directory a directory', () => {
    expect(match('/static/')).toMatchObject({ kind: 'file', segments: [], directory: true });
    expect(match('/static')).toMatchObject({ kind: 'file', segments: [], directory: true });
    expect(match('/static/css/')).toMatchObject({ kind: 'file', segments: ['css'], directory: true });
  });

  it('takes the root path off when the path starts with it', () => {
    expect(match('/app/static/a.css', '/app')).toMatchObject({ kind: 'file', segments: ['a.css'] });
    expect(match('/static/a.css', '/app')).toMatchObject({ kind: 'file', segments: ['a.css'] });
    expect(match('/application/static/a.css', '/app')).toEqual({ kind: 'none' });
  });

  it('refuses dot segments, encoded or not, with 400', () => {
    for (const target of ['/static/../settings.py', '/static/%2e%2e/settings.py', '/static/%2E%2E/%2e%2e/etc/passwd', '/static/css/./a.css', '/static/a/..', '/static/.%2e/x']) {
      expect(match(target), target).toEqual({ kind: 'bad' });
    }
  });

  it('refuses encoded slashes, backslashes, NUL and broken encodings with 400', () => {
    for (const target of ['/static/..%2fsettings.py', '/static/a%2Fb', '/static/..\\settings.py', '/static/a%5cb', '/static/a%00.css', '/static/%zz', '/static/%e9.css', '/static/a%']) {
      expect(match(target), target).toEqual({ kind: 'bad' });
    }
  });

  it('hides dot files and dot folders, except a leading .well-known', () => {
    expect(match('/static/.env')).toEqual({ kind: 'hidden' });
    expect(match('/static/.git/config')).toEqual({ kind: 'hidden' });
    expect(match('/static/css/.htaccess')).toEqual({ kind: 'hidden' });
    expect(match('/static/%2eenv')).toEqual({ kind: 'hidden' });
    expect(match('/static/.well-known/acme-challenge/token')).toMatchObject({ kind: 'file', segments: ['.well-known', 'acme-challenge', 'token'] });
    expect(match('/static/a/.well-known/x')).toEqual({ kind: 'hidden' });
    expect(match('/static/.well-known/.secret')).toEqual({ kind: 'hidden' });
  });

  it('reads doubled slashes as one', () => {
    expect(match('/static//css///a.css')).toMatchObject({ kind: 'file', segments: ['css', 'a.css'], directory: false });
  });
});

describe('decoding a path segment', () => {
  it('reads percent escapes and raw bytes as UTF-8', () => {
    expect(decodeSegment('plain.css')).toBe('plain.css');
    expect(decodeSegment('%E2%9C%93')).toBe('✓');
    expect(decodeSegment(Buffer.from('✓', 'utf8').toString('latin1'))).toBe('✓');
  });

  it('gives nothing for what is not UTF-8 or not an escape', () => {
    expect(decodeSegment('%ff')).toBeUndefined();
    expect(decodeSegment('%4')).toBeUndefined();
    expect(decodeSegment('%g0')).toBeUndefined();
  });
});

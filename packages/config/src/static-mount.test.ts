import { describe, expect, it } from 'vitest';
import { resolveConfig } from './load.js';
import { parseStaticMount } from './static-mount.js';

describe('static mounts', () => {
  it('reads URL_PREFIX=DIRECTORY and ends the prefix with a slash', () => {
    expect(parseStaticMount('/static/=staticfiles')).toEqual({ prefix: '/static/', directory: 'staticfiles' });
    expect(parseStaticMount('/static=/srv/app/static')).toEqual({ prefix: '/static/', directory: '/srv/app/static' });
    expect(parseStaticMount('/=public')).toEqual({ prefix: '/', directory: 'public' });
    expect(parseStaticMount('/a/b/=dir=with=equals')).toEqual({ prefix: '/a/b/', directory: 'dir=with=equals' });
  });

  it('refuses prefixes that a decoded path could never match', () => {
    expect(parseStaticMount('static/=x')).toMatch(/must start with \//);
    expect(parseStaticMount('/static/')).toMatch(/URL_PREFIX=DIRECTORY/);
    expect(parseStaticMount('/static/=')).toMatch(/directory/);
    for (const prefix of ['/a/../b/', '/a//b/', '/st%61tic/', '/a?b/', '/a\\b/']) expect(parseStaticMount(`${prefix}=x`)).toMatch(/segment/);
  });

  it('takes repeated flags, a list in a file, and commas in the environment', () => {
    const cli = resolveConfig({ static: { value: ['/static/=a', '/media/=b'], flag: '--static' } }, {}, undefined);
    expect(cli.config.static).toEqual(['/static/=a', '/media/=b']);
    expect(resolveConfig({}, { BICORN_STATIC: '/static/=a,/media/=b' }, undefined).config.static).toEqual(['/static/=a', '/media/=b']);
    expect(() => resolveConfig({}, { BICORN_STATIC: 'static' }, undefined)).toThrow(/static \(from BICORN_STATIC\): expected URL_PREFIX=DIRECTORY/);
  });

  it('takes * or an origin for static_cors', () => {
    expect(resolveConfig({}, { BICORN_STATIC_CORS: '*' }, undefined).config.static_cors).toBe('*');
    expect(resolveConfig({}, { BICORN_STATIC_CORS: 'https://example.com:8443' }, undefined).config.static_cors).toBe('https://example.com:8443');
    expect(() => resolveConfig({}, { BICORN_STATIC_CORS: 'example.com' }, undefined)).toThrow(/static_cors/);
  });
});

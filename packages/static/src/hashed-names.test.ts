import { describe, expect, it } from 'vitest';
import { looksHashed, parseManifest } from './hashed-names.js';

describe('hashed names', () => {
  it("takes Django's, webpack's, Parcel's and Vite's forms", () => {
    for (const name of [
      'css/base.5af66c1b1797.css',
      'admin/js/core.0123456789ab.js',
      'main.8e3d2a1f.chunk.js',
      'app.3f2a9c0d1e4b5a6c7d8e.js',
      'img/4b825dc642cb6eb9a060.png',
      'assets/index-D4x_9Lqa.js',
      'assets/index-BHXUNn9Y.css',
      'dist/assets/vendor-a1b2c3d4.js.map',
    ]) {
      expect(looksHashed(name), name).toBe(true);
    }
  });

  it('leaves ordinary names, dates and words alone', () => {
    for (const name of [
      'css/base.css',
      'robots.txt',
      'backup.20240101.tar.gz',
      'assets/logo-original.png',
      'img/site-D4x_9Lqa.png',
      'deadbeef.css',
      'js/jquery.min.js',
      'fonts/font.abcdefg.woff2',
    ]) {
      expect(looksHashed(name), name).toBe(false);
    }
  });

  it("reads the hashed names of Django's staticfiles.json", () => {
    const manifest = parseManifest(JSON.stringify({ paths: { 'css/base.css': 'css/base.5af66c1b1797.css' }, version: '1.1', hash: 'x' }));
    expect(manifest).toEqual(new Set(['css/base.5af66c1b1797.css']));
    expect(parseManifest('{"version": "1.1"}')).toBeUndefined();
    expect(parseManifest('not json')).toBeUndefined();
  });
});

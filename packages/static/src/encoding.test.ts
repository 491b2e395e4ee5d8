import { describe, expect, it } from 'vitest';
import { chooseEncoding } from './encoding.js';

const both = { br: true, gzip: true };

describe('choosing a precompressed sibling', () => {
  it('prefers brotli, then gzip, among what is on disk', () => {
    expect(chooseEncoding('gzip, deflate, br, zstd', both)).toBe('br');
    expect(chooseEncoding('gzip, deflate, br', { br: false, gzip: true })).toBe('gzip');
    expect(chooseEncoding('gzip', both)).toBe('gzip');
    expect(chooseEncoding('x-gzip', { br: false, gzip: true })).toBe('gzip');
    expect(chooseEncoding('deflate', both)).toBeNull();
    expect(chooseEncoding(undefined, both)).toBeNull();
    expect(chooseEncoding('br', { br: false, gzip: false })).toBeNull();
  });

  it('follows q values, refuses q=0, and reads * for codings not named', () => {
    expect(chooseEncoding('br;q=0.5, gzip', both)).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip;q=0', both)).toBeNull();
    expect(chooseEncoding('*', both)).toBe('br');
    expect(chooseEncoding('*;q=0.3, br;q=0', both)).toBe('gzip');
    expect(chooseEncoding('gzip;q=2', { br: false, gzip: true })).toBeNull();
    expect(chooseEncoding('GZIP ; Q=0.8', { br: false, gzip: true })).toBe('gzip');
  });
});

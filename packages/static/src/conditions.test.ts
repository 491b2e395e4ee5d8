import { describe, expect, it } from 'vitest';
import { evaluatePreconditions, ifRangeHolds, parseRange } from './conditions.js';

const file = { etag: '"800-5f1"', modifiedS: Date.parse('Tue, 01 Dec 2026 10:00:00 GMT') / 1000 };
const before = 'Tue, 01 Dec 2026 09:59:59 GMT';
const at = 'Tue, 01 Dec 2026 10:00:00 GMT';

describe('preconditions', () => {
  it('answers 304 when If-None-Match names the file, weakly or in a list, or is *', () => {
    expect(evaluatePreconditions({ 'if-none-match': '"800-5f1"' }, file)).toBe('not-modified');
    expect(evaluatePreconditions({ 'if-none-match': '"x", W/"800-5f1"' }, file)).toBe('not-modified');
    expect(evaluatePreconditions({ 'if-none-match': '*' }, file)).toBe('not-modified');
    expect(evaluatePreconditions({ 'if-none-match': '"800-5f2"' }, file)).toBe('proceed');
  });

  it('answers 304 for If-Modified-Since at or after the modification, unless If-None-Match is there', () => {
    expect(evaluatePreconditions({ 'if-modified-since': at }, file)).toBe('not-modified');
    expect(evaluatePreconditions({ 'if-modified-since': before }, file)).toBe('proceed');
    expect(evaluatePreconditions({ 'if-modified-since': at, 'if-none-match': '"other"' }, file)).toBe('proceed');
    expect(evaluatePreconditions({ 'if-modified-since': 'yesterday' }, file)).toBe('proceed');
  });

  it('answers 412 when If-Match misses (strongly) or If-Unmodified-Since is older', () => {
    expect(evaluatePreconditions({ 'if-match': '"other"' }, file)).toBe('failed');
    expect(evaluatePreconditions({ 'if-match': 'W/"800-5f1"' }, file)).toBe('failed');
    expect(evaluatePreconditions({ 'if-match': '"800-5f1"' }, file)).toBe('proceed');
    expect(evaluatePreconditions({ 'if-unmodified-since': before }, file)).toBe('failed');
    expect(evaluatePreconditions({ 'if-unmodified-since': at }, file)).toBe('proceed');
  });
});

describe('If-Range', () => {
  it('holds for the same strong tag or the exact date, never for a weak tag', () => {
    expect(ifRangeHolds(undefined, file)).toBe(true);
    expect(ifRangeHolds('"800-5f1"', file)).toBe(true);
    expect(ifRangeHolds('"800-5f0"', file)).toBe(false);
    expect(ifRangeHolds('W/"800-5f1"', file)).toBe(false);
    expect(ifRangeHolds(at, file)).toBe(true);
    expect(ifRangeHolds(before, file)).toBe(false);
  });
});

describe('Range', () => {
  it('reads first-last, first- and -suffix, clamped to the file', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ kind: 'part', start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ kind: 'part', start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ kind: 'part', start: 900, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ kind: 'part', start: 0, end: 999 });
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ kind: 'part', start: 990, end: 999 });
    expect(parseRange('Bytes = 1 - 1', 1000)).toEqual({ kind: 'part', start: 1, end: 1 });
  });

  it('is unsatisfiable past the end, or for an empty suffix or file', () => {
    expect(parseRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores several ranges, other units and malformed ones (the whole file)', () => {
    for (const header of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-1', 'bytes=-', 'bytes=a-b', 'bytes 0-1', undefined]) {
      expect(parseRange(header, 1000), String(header)).toEqual({ kind: 'whole' });
    }
  });
});

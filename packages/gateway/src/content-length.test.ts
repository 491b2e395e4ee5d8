import { describe, expect, it } from 'vitest';
import { contentLengthOf, declaredLength, isByteCount, lengthViolation } from './content-length.js';

describe('isByteCount', () => {
  it('takes one number of bytes, and nothing else a header value can hold', () => {
    expect(['0', '12', '999999999999999'].filter((value) => !isByteCount(value))).toEqual([]);
    expect(['', 'abc', '3, 3', ' 3', '-1', '1e3', '0x10', '1.5', '1000000000000000'].filter(isByteCount)).toEqual([]);
  });
});

describe('declaredLength', () => {
  it('reads the content-length whatever its case, and nothing when there is none', () => {
    expect(declaredLength(false, 200, ['content-type', 'text/plain', 'Content-Length', '12'])).toBe(12);
    expect(declaredLength(false, 201, ['content-length', '0'])).toBe(0);
    expect(declaredLength(false, 200, ['content-type', 'text/plain'])).toBeUndefined();
  });

  it('binds no body for HEAD, 204 and 304, which carry none', () => {
    expect(declaredLength(true, 200, ['content-length', '12'])).toBeUndefined();
    expect(declaredLength(false, 204, ['content-length', '12'])).toBeUndefined();
    expect(declaredLength(false, 304, ['content-length', '12'])).toBeUndefined();
  });
});

describe('contentLengthOf', () => {
  it('reads the content-length whatever the status, for a file sent to HEAD as well', () => {
    expect(contentLengthOf(['Content-Length', '7'])).toBe(7);
    expect(contentLengthOf(['transfer-encoding', 'chunked'])).toBeUndefined();
  });
});

describe('lengthViolation', () => {
  it('accepts a body that reaches the declared length exactly, in one event or several', () => {
    expect(lengthViolation(5, 5, true)).toBeUndefined();
    expect(lengthViolation(5, 2, false)).toBeUndefined();
    expect(lengthViolation(5, 5, false)).toBeUndefined();
    expect(lengthViolation(0, 0, true)).toBeUndefined();
  });

  it('names the rule for a body longer than declared, as soon as it is', () => {
    expect(lengthViolation(3, 5, false)).toBe('the body is longer than the 3 bytes of its content-length');
    expect(lengthViolation(3, 4, true)).toMatch(/longer than the 3 bytes/);
  });

  it('names the rule for a body that ends short', () => {
    expect(lengthViolation(5, 3, true)).toBe('the body ends at 3 bytes, short of the 5 of its content-length');
  });
});

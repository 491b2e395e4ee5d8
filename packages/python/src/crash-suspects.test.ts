import { describe, expect, it } from 'vitest';
import { CrashSuspects, requestKey } from './crash-suspects.js';

describe('crash suspects', () => {
  it('suspects a request alone in flight at a death at once, one among others after two deaths, for a minute', () => {
    const suspects = new CrashSuspects();
    suspects.record([requestKey('GET', '/crash?n=1')], 0);
    expect(suspects.isSuspect('GET /crash', 1)).toBe(true);
    suspects.record(['GET /a', 'GET /b'], 0);
    expect(suspects.isSuspect('GET /a', 1)).toBe(false);
    suspects.record(['GET /a', 'GET /c'], 30_000);
    expect(suspects.isSuspect('GET /a', 30_001)).toBe(true);
    expect(suspects.isSuspect('GET /c', 30_001)).toBe(false);
    expect(suspects.isSuspect('GET /crash', 60_000)).toBe(false);
  });
});

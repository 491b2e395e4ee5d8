import { describe, expect, it } from 'vitest';
import { CrashSuspects, requestKey } from './crash-suspects.js';

describe('crash suspects', () => {
  it('suspects a request alone in flight at a death at once, one among others after two deaths, for a minute', () => {
    const suspects = new CrashSuspects();
    suspects.record([requestKey('GET', '/crash?n=1')], 0);
    expect(suspects.isSuspect('GET /crash', 1)).toBe(true);
    for (const key of ['GET /a', 'GET /b', 'GET /c']) suspects.acquit(key);
    suspects.record(['GET /a', 'GET /b'], 0);
    expect(suspects.isSuspect('GET /a', 1)).toBe(false);
    suspects.record(['GET /a', 'GET /c'], 30_000);
    expect(suspects.isSuspect('GET /a', 30_001)).toBe(true);
    expect(suspects.isSuspect('GET /c', 30_001)).toBe(false);
    expect(suspects.isSuspect('GET /crash', 60_000)).toBe(false);
  });

  it('acquits a request that ran to its end, however often it was in flight beside the killer', () => {
    const suspects = new CrashSuspects();
    suspects.record(['GET /exit', 'GET /ok'], 0);
    suspects.record(['GET /exit', 'GET /ok'], 100);
    suspects.acquit('GET /ok');
    expect(suspects.isSuspect('GET /ok', 200)).toBe(false);
    expect(suspects.isSuspect('GET /exit', 200)).toBe(true);
    suspects.record(['GET /exit', 'GET /ok'], 300);
    expect(suspects.isSuspect('GET /ok', 400)).toBe(false);
  });

  it('suspects at its first death a request in flight that never ran to its end, and not one that did', () => {
    const suspects = new CrashSuspects();
    suspects.acquit('GET /ok');
    suspects.record(['GET /exit', 'GET /ok'], 0);
    expect(suspects.isSuspect('GET /exit', 1)).toBe(true);
    expect(suspects.isSuspect('GET /ok', 1)).toBe(false);
  });

  it('remembers the 256 most recent acquittals, a request acquitted again counting as recent', () => {
    const suspects = new CrashSuspects();
    suspects.acquit('GET /often');
    for (let i = 0; i < 400; i += 1) {
      suspects.acquit(`GET /page/${String(i)}`);
      if (i % 100 === 0) suspects.acquit('GET /often');
    }
    // Never seen to end: a suspect at its first death; seen to end: not.
    suspects.record(['GET /page/0', 'GET /page/399', 'GET /often'], 0);
    expect(suspects.isSuspect('GET /page/0', 1)).toBe(true);
    expect(suspects.isSuspect('GET /page/399', 1)).toBe(false);
    expect(suspects.isSuspect('GET /often', 1)).toBe(false);
  });
});

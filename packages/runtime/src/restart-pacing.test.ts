import { describe, expect, it } from 'vitest';
import { replacementDelay } from './restart-pacing.js';

describe('restart pacing', () => {
  it('replaces at once a process that served longer than it booted, else waits the difference, at most 30 s', () => {
    expect(replacementDelay(400, 10_000)).toBe(0);
    expect(replacementDelay(400, 100)).toBe(300);
    expect(replacementDelay(120_000, 0)).toBe(30_000);
  });
});

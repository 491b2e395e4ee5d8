import { describe, expect, it } from 'vitest';
import { BootFailures } from './restart-policy.js';

const config = { restart_delay: 0.1, max_restarts: 2, restart_window: 60 };

describe('the restart policy', () => {
  it('backs off boot failures, doubling, and gives up past max_restarts only while nothing serves', () => {
    const failures = new BootFailures();
    expect([1, 2, 3, 4].map((t) => failures.record(t, config, true))).toEqual([
      { kind: 'retry', failures: 1, delayMs: 100 },
      { kind: 'retry', failures: 2, delayMs: 200 },
      { kind: 'retry', failures: 3, delayMs: 400 },
      { kind: 'retry', failures: 4, delayMs: 800 },
    ]);
    expect(failures.record(5, config, false)).toEqual({ kind: 'give-up', failures: 5 });
  });

  it('forgets boot failures older than the window', () => {
    const failures = new BootFailures();
    failures.record(0, config, false);
    failures.record(1_000, config, false);
    expect(failures.record(61_500, config, false)).toEqual({ kind: 'retry', failures: 1, delayMs: 100 });
  });
});

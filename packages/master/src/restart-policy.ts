// The exit policy for workers that die unasked: a back-off that doubles with each failure in
// the window, and a crash loop once there are more failures than allowed. Runs in the master.

const MAX_RESTART_DELAY_MS = 30_000;

export interface RestartPolicyConfig {
  readonly restart_delay: number;
  readonly max_restarts: number;
  readonly restart_window: number;
}

export type RestartDecision = { readonly kind: 'restart'; readonly failures: number; readonly delayMs: number } | { readonly kind: 'crash-loop'; readonly failures: number };

export class RestartPolicy {
  readonly #failures: number[] = [];

  /** Records a failure at `now` (ms) and says what to do about it. */
  fail(now: number, config: RestartPolicyConfig): RestartDecision {
    this.#failures.push(now);
    const windowMs = config.restart_window * 1000;
    while ((this.#failures[0] ?? now) < now - windowMs) this.#failures.shift();
    const failures = this.#failures.length;
    if (failures > config.max_restarts) return { kind: 'crash-loop', failures };
    return { kind: 'restart', failures, delayMs: Math.min(config.restart_delay * 1000 * 2 ** (failures - 1), MAX_RESTART_DELAY_MS) };
  }
}

// The exit policy for workers that die unasked, as pure decisions. Runs in the master.
// A worker that served and died is replaced at once, every time, and never stops the server:
// only a worker that dies sooner after becoming ready than its boot took makes its replacement
// wait the difference (replacementDelay, in @bicorn/runtime, which a worker's Python process
// follows too). A worker that never became ready could not boot:
// its slot is retried after a back-off that doubles with each boot failure in restart_window;
// past max_restarts of them the server stops with the boot's exit code, but only while no
// worker serves.

const MAX_RESTART_DELAY_MS = 30_000;

export interface RestartPolicyConfig {
  readonly restart_delay: number;
  readonly max_restarts: number;
  readonly restart_window: number;
}

export type BootDecision =
  | { readonly kind: 'retry'; readonly failures: number; readonly delayMs: number }
  /** Too many boot failures in the window, and nothing serves: the server stops. */
  | { readonly kind: 'give-up'; readonly failures: number };

export class BootFailures {
  readonly #failures: number[] = [];

  /** Records a boot failure at `now` (ms) and says what to do about it. */
  record(now: number, config: RestartPolicyConfig, anyServing: boolean): BootDecision {
    this.#failures.push(now);
    const windowMs = config.restart_window * 1000;
    while ((this.#failures[0] ?? now) < now - windowMs) this.#failures.shift();
    const failures = this.#failures.length;
    if (failures > config.max_restarts && !anyServing) return { kind: 'give-up', failures };
    const doublings = Math.min(failures - 1, 30);
    return { kind: 'retry', failures, delayMs: Math.min(config.restart_delay * 1000 * 2 ** doublings, MAX_RESTART_DELAY_MS) };
  }
}

// A bounded poll for end-to-end tests, for what no log line announces (a file appearing, an
// app's own record): probes until a value comes or the deadline passes, never a fixed sleep.

/**
 * Calls `probe` until it returns something other than undefined, and returns that; fails after
 * `timeoutMs` naming `what` (a function, to describe the state at the deadline). A probe that
 * throws ends the wait with its error.
 */
export async function pollUntil<T>(what: string | (() => string), probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

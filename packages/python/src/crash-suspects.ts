// The requests that were in flight when the app's Python process died, by `METHOD path`. One
// that was alone in flight at a death (it killed the process, as under a WSGI app with one
// thread), or that no request of its kind ever ran to its end in this worker, or seen at two
// deaths within a minute, is a suspect: it waits behind every other request and runs alone,
// so that a client that keeps sending a request that kills the app (a flood of them) costs the
// others no more than the restarts it causes, while nothing is refused. A request that runs to
// its end is acquitted. Runs in the worker.

const SUSPECT_AFTER = 2;
const MEMORY_MS = 60_000;
const MAX_REMEMBERED = 256;

/** What identifies a request for this: its method and path, without the query. */
export function requestKey(method: string | undefined, url: string | undefined): string {
  const target = url ?? '?';
  const query = target.indexOf('?');
  return `${method ?? '?'} ${query === -1 ? target : target.slice(0, query)}`;
}

export class CrashSuspects {
  readonly #seen = new Map<string, { deaths: number; lastAt: number }>();
  /**
   * Keys of requests that ran to their end, each with when it last did (a count). Updated in
   * place, not deleted and re-added: that churn, once per request, makes a Map's garbage
   * survive the young generation's collections (@bicorn/runtime/id-table).
   */
  readonly #acquitted = new Map<string, number>();
  #acquittals = 0;

  /** The process died with these requests in flight. */
  record(keys: readonly string[], now: number): void {
    for (const key of keys) {
      // Alone in flight, it is the one that killed the process; one never seen to end may be.
      const weight = keys.length === 1 || !this.#acquitted.has(key) ? SUSPECT_AFTER : 1;
      const seen = this.#seen.get(key);
      const deaths = (seen !== undefined && now - seen.lastAt < MEMORY_MS ? seen.deaths : 0) + weight;
      this.#seen.delete(key);
      this.#seen.set(key, { deaths, lastAt: now });
      if (this.#seen.size > MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value ?? key);
    }
  }

  /** A request of this key ran to its end, and the process lived: it is no suspect (one often in flight beside a killer is not one). */
  acquit(key: string): void {
    if (this.#seen.size > 0) this.#seen.delete(key);
    this.#acquitted.set(key, ++this.#acquittals);
    if (this.#acquitted.size > MAX_REMEMBERED + MAX_REMEMBERED / 4) this.#forgetOldestAcquittals();
  }

  /** Keeps the MAX_REMEMBERED most recent: a quarter of them at once, so that an app of many paths does not pay a scan per request. */
  #forgetOldestAcquittals(): void {
    const byAge = [...this.#acquitted].sort((a, b) => a[1] - b[1]);
    for (const [key] of byAge.slice(0, byAge.length - MAX_REMEMBERED)) this.#acquitted.delete(key);
  }

  isSuspect(key: string, now: number): boolean {
    const seen = this.#seen.get(key);
    return seen !== undefined && seen.deaths >= SUSPECT_AFTER && now - seen.lastAt < MEMORY_MS;
  }
}

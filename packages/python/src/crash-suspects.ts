// The requests that were in flight when the app's Python process died, by `METHOD path`. One
// that was alone in flight at a death (it killed the process, as under a WSGI app with one
// thread), or seen at two deaths within a minute, is a suspect: it waits behind every other
// request, so that a client that keeps sending a request that kills the app (a flood of them)
// costs the others no more than the restarts it causes, while nothing is refused. Runs in the
// worker.

const SUSPECT_AFTER = 2;
const MEMORY_MS = 60_000;
const MAX_REMEMBERED = 256;

/** What identifies a request for this: its method and path, without the query. */
export function requestKey(method: string | undefined, url: string | undefined): string {
  return `${method ?? '?'} ${(url ?? '?').split('?')[0] ?? ''}`;
}

export class CrashSuspects {
  readonly #seen = new Map<string, { deaths: number; lastAt: number }>();

  /** The process died with these requests in flight. */
  record(keys: readonly string[], now: number): void {
    // Alone in flight, it is the one that killed the process.
    const weight = keys.length === 1 ? SUSPECT_AFTER : 1;
    for (const key of keys) {
      const seen = this.#seen.get(key);
      const deaths = (seen !== undefined && now - seen.lastAt < MEMORY_MS ? seen.deaths : 0) + weight;
      this.#seen.delete(key);
      this.#seen.set(key, { deaths, lastAt: now });
      if (this.#seen.size > MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value ?? key);
    }
  }

  /** A request of this key ran to its end, and the process lived: it is no suspect (one often in flight beside a killer is not one). */
  acquit(key: string): void {
    this.#seen.delete(key);
  }

  isSuspect(key: string, now: number): boolean {
    const seen = this.#seen.get(key);
    return seen !== undefined && seen.deaths >= SUSPECT_AFTER && now - seen.lastAt < MEMORY_MS;
  }
}

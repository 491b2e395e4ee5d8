// Which requests the Python app may start now. A WSGI app has `threads` threads: a request sent
// beyond them would wait inside the Python process, where a crash loses it and no timeout sees
// it. An ASGI app starts every request it is sent, but only while its event loop answers in
// time. Requests that cannot start wait here, in order, each up to the queue timeout, so that
// what the app has received is always what it has started; while its process is restarted
// after a crash they wait too, for the new one. A suspect (crash-suspects.ts) waits behind all
// the others, and a new process takes one only once it has served as long as its boot took:
// a flood of requests that kill the app then leaves it serving at least half of the time, and
// the other requests wait no longer than a boot. A suspect runs alone: it starts only when the
// app runs nothing else, and nothing else starts until it is done, so that the crash it may
// cause costs no other request (an ASGI app runs every request in one process, and a WSGI app
// with several threads too). Runs in the worker.

export interface StartGateOptions {
  /** Requests the app runs at once: its threads (WSGI), or Infinity (ASGI). */
  readonly slots: number;
  /** How long a request may wait to start; 0: no limit. */
  readonly timeoutMs: number;
  /** Runs whenever what the app can take on may have changed. */
  readonly onChange: () => void;
  /** Whether a request (by its key) is a suspect now; asked when it would start. */
  readonly isSuspect: (key: string) => boolean;
}

interface Waiter {
  readonly resolve: (started: boolean) => void;
  readonly wanted: () => boolean;
  readonly key: string;
  timer: NodeJS.Timeout | undefined;
}

export class StartGate {
  readonly #options: StartGateOptions;
  readonly #waiting: Waiter[] = [];
  #busy = 0;
  /** A suspect is running, alone. */
  #suspectRunning = false;
  #responsive = true;
  /** The app's process is there: false from its death until its replacement is ready. */
  #up = true;
  /** When a suspect may start (ms since the epoch), and the timer that lets it in then. */
  #suspectsFrom = 0;
  #suspectTimer: NodeJS.Timeout | undefined;

  constructor(options: StartGateOptions) {
    this.#options = options;
  }

  /** The app can start a request now, and none waits before it but suspects held back. */
  get free(): boolean {
    return this.#canStart() && !this.#waiting.some((w) => !this.#options.isSuspect(w.key));
  }

  /** Requests that wait for the app to start them. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves true once the request may start: it holds a slot, given back with release() when
   * the app is done with it. Resolves false at the queue timeout, or once it is its turn and
   * `wanted()` says its client has gone. A suspect is let in only when no other waits.
   */
  take(key: string, wanted: () => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, wanted, key, timer: undefined };
      // In line behind the others, and let in at once when it may start now.
      this.#waiting.push(waiter);
      this.#admit();
      if (this.#waiting.includes(waiter) && this.#options.timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          resolve(false);
          this.#options.onChange();
        }, this.#options.timeoutMs);
      }
      this.#options.onChange();
    });
  }

  release(): void {
    // Never below 0: a slot taken just before a death (suspend) may be given back after it.
    this.#busy = Math.max(0, this.#busy - 1);
    // A suspect runs alone: once nothing runs, it is done.
    if (this.#busy <= 0) this.#suspectRunning = false;
    this.#admit();
    this.#options.onChange();
  }

  /** The app's process died: what it had started is gone, and nothing starts until resume(). */
  suspend(): void {
    this.#up = false;
    this.#busy = 0;
    this.#suspectRunning = false;
    this.#options.onChange();
  }

  /** A new process of the app is ready, after a boot of `bootMs`: the waiting requests start. */
  resume(bootMs: number): void {
    this.#up = true;
    this.#responsive = true;
    this.#suspectsFrom = Date.now() + bootMs;
    this.#admit();
    this.#options.onChange();
  }

  /** No process will come: every waiting request gets its 503 now. */
  refuseWaiting(): void {
    clearTimeout(this.#suspectTimer);
    for (const waiter of this.#waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.#options.onChange();
  }

  /** Whether the app's frame reader (its event loop, or the reader thread) answers in time. */
  setResponsive(responsive: boolean): void {
    if (responsive === this.#responsive) return;
    this.#responsive = responsive;
    this.#admit();
    this.#options.onChange();
  }

  #canStart(): boolean {
    return this.#up && this.#responsive && !this.#suspectRunning && this.#busy < this.#options.slots;
  }

  #admit(): void {
    while (this.#waiting.length > 0 && this.#canStart()) {
      const next = this.#nextWaiter();
      if (next === -1) return;
      const [waiter] = this.#waiting.splice(next, 1);
      if (waiter === undefined) return;
      clearTimeout(waiter.timer);
      if (!waiter.wanted()) {
        waiter.resolve(false);
        continue;
      }
      this.#busy++;
      if (this.#options.isSuspect(waiter.key)) this.#suspectRunning = true;
      waiter.resolve(true);
    }
  }

  /** The first waiter that is no suspect; else the first suspect, once suspects may start and nothing runs; else -1. */
  #nextWaiter(): number {
    const innocent = this.#waiting.findIndex((w) => !this.#options.isSuspect(w.key));
    if (innocent !== -1) return innocent;
    // release() lets it in once the requests that run now are done.
    if (this.#busy > 0) return -1;
    const wait = this.#suspectsFrom - Date.now();
    if (wait <= 0) return 0;
    clearTimeout(this.#suspectTimer);
    this.#suspectTimer = setTimeout(() => {
      this.#admit();
      this.#options.onChange();
    }, wait);
    return -1;
  }
}

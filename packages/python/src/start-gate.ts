// Which requests the Python app may be sent now. A WSGI app has `threads` threads: a request
// sent while they are all busy waits inside the Python process, in order, until one is free.
// Only requests without a body wait there, at most `ahead` of them: the worker then knows, from
// the order it sent them, which ones a process that died never started (frames/SPEC.md), and
// withdraws one the app has not started by the queue timeout; the app's process takes them
// without waiting for the worker between two requests. Any other request waits here, in order,
// up to the queue timeout, until a thread is free. An ASGI app starts every request it is sent,
// but only while its event loop answers in time; while its process is restarted after a crash
// they all wait here, for the new one. A suspect (crash-suspects.ts) waits behind all the
// others, and a new process takes one only once it has served as long as its boot took: a flood
// of requests that kill the app then leaves it serving at least half of the time, and the other
// requests wait no longer than a boot. A suspect runs alone: it starts only when the app runs
// nothing else, and nothing else starts until it is done, so that the crash it may cause costs
// no other request (an ASGI app runs every request in one process, and a WSGI app with several
// threads too). Runs in the worker.

export interface StartGateOptions {
  /** Requests the app runs at once: its threads (WSGI), or Infinity (ASGI). */
  readonly slots: number;
  /** Requests without a body the app may be sent beyond its slots, to wait in its process for one. */
  readonly ahead: number;
  /** How long a request may wait to start; 0: no limit. */
  readonly timeoutMs: number;
  /** Runs whenever what the app can take on may have changed. */
  readonly onChange: () => void;
  /** Whether a request (by its key) is a suspect now; asked when it would start. */
  readonly isSuspect: (key: string) => boolean;
}

interface Waiter {
  readonly resolve: (sent: boolean) => void;
  readonly wanted: () => boolean;
  readonly key: string;
  /** It has no body: it may wait in the app's process. */
  readonly bodiless: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface TakeOptions {
  /** The request has no body, so it may be sent ahead of a free slot. */
  readonly bodiless: boolean;
  /** It had been sent to a process that died without starting it: first in line. */
  readonly again?: boolean;
}

export class StartGate {
  readonly #options: StartGateOptions;
  readonly #waiting: Waiter[] = [];
  /** Requests sent to the app and not let go of: those it runs, then those waiting in its process. */
  #busy = 0;
  /** A suspect is running, alone. */
  #suspectRunning = false;
  #responsive = true;
  /** The app's process is there: false from its death until its replacement is ready. */
  #up = true;
  /** Requests let go of so far (release()): what shows the app working through its queue. */
  #served = 0;
  /** When a suspect may start (ms since the epoch), and the timer that lets it in then. */
  #suspectsFrom = 0;
  #suspectTimer: NodeJS.Timeout | undefined;

  constructor(options: StartGateOptions) {
    this.#options = options;
  }

  /** The app can start a request now, and none waits before it but suspects held back. */
  get free(): boolean {
    return this.#open() && this.#busy < this.#options.slots && !this.#waiting.some((w) => !this.#options.isSuspect(w.key));
  }

  /** It lets no request in for another reason than its slots: the app's process is down or unresponsive, or a suspect runs alone. */
  get blocked(): boolean {
    return !this.#open();
  }

  /** Requests let go of so far. */
  get served(): number {
    return this.#served;
  }

  /** Requests that wait for the app to start them: here, and in its process. */
  get waiting(): number {
    return this.#waiting.length + Math.max(0, this.#busy - this.#options.slots);
  }

  /**
   * Resolves true once the request may be sent: it holds a place, given back with release() when
   * the app is done with it. Resolves false at the queue timeout, or once it is its turn and
   * `wanted()` says its client has gone. A suspect is let in only when no other waits.
   */
  take(key: string, wanted: () => boolean, options: TakeOptions): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, wanted, key, bodiless: options.bodiless, timer: undefined };
      // In line behind the others, and let in at once when it may go now.
      if (options.again === true) this.#waiting.unshift(waiter);
      else this.#waiting.push(waiter);
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

  /**
   * take() for a request that may start at once, without a promise or a turn of the event loop:
   * true when it took a place (nothing waits, the app is open, a slot is free for it, and it is
   * no suspect); false when take() must decide.
   */
  tryTake(key: string, bodiless: boolean): boolean {
    if (this.#waiting.length > 0 || !this.#open() || !this.#maySend(bodiless) || this.#options.isSuspect(key)) return false;
    this.#busy++;
    this.#options.onChange();
    return true;
  }

  release(): void {
    this.#served++;
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

  #open(): boolean {
    return this.#up && this.#responsive && !this.#suspectRunning;
  }

  #maySend(bodiless: boolean): boolean {
    const { slots, ahead } = this.#options;
    return this.#busy < slots || (bodiless && this.#busy < slots + ahead);
  }

  #admit(): void {
    while (this.#waiting.length > 0 && this.#open()) {
      const next = this.#nextWaiter();
      if (next === -1) return;
      const waiter = this.#waiting[next];
      // In order: a request that must wait for a slot holds back those behind it.
      if (waiter === undefined || !this.#maySend(waiter.bodiless)) return;
      this.#waiting.splice(next, 1);
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

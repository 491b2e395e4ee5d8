// Which requests the Python app may start now. A WSGI app has `threads` threads: a request sent
// beyond them would wait inside the Python process, where a crash loses it and no timeout sees
// it. An ASGI app starts every request it is sent, but only while its event loop answers in
// time. Requests that cannot start wait here, in order, each up to the queue timeout, so that
// what the app has received is always what it has started. Runs in the worker.

export interface StartGateOptions {
  /** Requests the app runs at once: its threads (WSGI), or Infinity (ASGI). */
  readonly slots: number;
  /** How long a request may wait to start; 0: no limit. */
  readonly timeoutMs: number;
  /** Runs whenever what the app can take on may have changed. */
  readonly onChange: () => void;
}

interface Waiter {
  readonly resolve: (started: boolean) => void;
  readonly wanted: () => boolean;
  timer: NodeJS.Timeout | undefined;
}

export class StartGate {
  readonly #options: StartGateOptions;
  readonly #waiting: Waiter[] = [];
  #busy = 0;
  #responsive = true;

  constructor(options: StartGateOptions) {
    this.#options = options;
  }

  /** The app can start a request now, and none waits before it. */
  get free(): boolean {
    return this.#waiting.length === 0 && this.#canStart();
  }

  /** Requests that wait for the app to start them. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves true once the request may start: it holds a slot, given back with release() when
   * the app is done with it. Resolves false at the queue timeout, or once it is its turn and
   * `wanted()` says its client has gone.
   */
  take(wanted: () => boolean): Promise<boolean> {
    if (this.free) {
      this.#busy++;
      this.#options.onChange();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, wanted, timer: undefined };
      if (this.#options.timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          resolve(false);
          this.#options.onChange();
        }, this.#options.timeoutMs);
      }
      this.#waiting.push(waiter);
      this.#options.onChange();
    });
  }

  release(): void {
    this.#busy--;
    this.#admit();
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
    return this.#responsive && this.#busy < this.#options.slots;
  }

  #admit(): void {
    while (this.#waiting.length > 0 && this.#canStart()) {
      const waiter = this.#waiting.shift();
      if (waiter === undefined) return;
      clearTimeout(waiter.timer);
      if (!waiter.wanted()) {
        waiter.resolve(false);
        continue;
      }
      this.#busy++;
      waiter.resolve(true);
    }
  }
}

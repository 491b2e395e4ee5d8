// Tells the master what this worker's app can take on, for the choice of who gets the next
// connection: with the acknowledgement of each connection it took (the dispatcher hands a
// worker no other one before it), and whenever its app becomes free or saturated, at most once
// per turn of the event loop. Runs in a worker.
import type { Load, WorkerMessage } from '@bicorn/protocol';

export class LoadReporter {
  readonly #load: () => Load;
  readonly #send: (message: WorkerMessage) => void;
  #free = true;
  #scheduled = false;

  constructor(load: () => Load, send: (message: WorkerMessage) => void) {
    this.#load = load;
    this.#send = send;
  }

  /** The worker took the connection the master handed it last. */
  accepted(): void {
    const load = this.#load();
    this.#free = load.free;
    this.#send({ type: 'accepted', ...load });
  }

  /** The app's load may have changed; the master hears of it if its app became free or saturated. */
  changed(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const load = this.#load();
      if (load.free === this.#free) return;
      this.#free = load.free;
      this.#send({ type: 'load', ...load });
    });
  }
}

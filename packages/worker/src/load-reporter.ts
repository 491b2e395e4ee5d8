// Tells the master what this worker's app can take on, for the choice of who gets the next
// connection: with the acknowledgement of each connection it took (the dispatcher hands a
// worker no other one before it), and whenever its app becomes free or saturated, or, once
// saturated, finishes its first request (it is working through a queue, not stalled), at most
// once per turn of the event loop. Runs in a worker.
import type { AppLoad, Load, WorkerMessage } from '@bicorn/protocol';

export class LoadReporter {
  readonly #load: () => AppLoad;
  readonly #send: (message: WorkerMessage) => void;
  /** What the master was told last. */
  #free = true;
  #progressing = true;
  /** Whether the app had a free slot when last looked at, and its requests served then or since it last had one. */
  #seenFree = true;
  #servedWhenFull = 0;
  #scheduled = false;

  constructor(load: () => AppLoad, send: (message: WorkerMessage) => void) {
    this.#load = load;
    this.#send = send;
  }

  /** The worker took the connection the master handed it last. */
  accepted(): void {
    const load = this.#now();
    this.#free = load.free;
    this.#progressing = load.progressing;
    this.#send({ type: 'accepted', ...load });
  }

  /** The app's load may have changed; the master hears of it if it became free or saturated, or started progressing. */
  changed(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const load = this.#now();
      if (load.free === this.#free && load.progressing === this.#progressing) return;
      this.#free = load.free;
      this.#progressing = load.progressing;
      this.#send({ type: 'load', ...load });
    });
  }

  #now(): Load {
    const { free, waiting, served } = this.#load();
    // Saturated since the last look: progress counts from the requests served until now.
    if (free || this.#seenFree) this.#servedWhenFull = served;
    this.#seenFree = free;
    return { free, waiting, progressing: free || served > this.#servedWhenFull };
  }
}

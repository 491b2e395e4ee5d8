// Tells the master what this worker's app can take on, for the choice of who gets the next
// connection: with the acknowledgement of each connection it took (the dispatcher hands a
// worker few or no others before it), and whenever its app becomes free or saturated, or, once
// saturated, finishes its first request (it is working through a queue, not stalled), at most
// once per turn of the event loop. A saturation of busy threads is told only once it has
// lasted SATURATION_GRACE_MS. Runs in a worker.
import type { AppLoad, Load, WorkerMessage } from '@bicorn/protocol';

/**
 * How long busy threads must keep the app saturated before the master hears of it. A WSGI app
 * of one thread is saturated by each request it runs: told at once, every quick request cost
 * two messages and a wake-up of the master each, at a thousand requests a second 50-80 µs of
 * the master's CPU per request, half what the Python process spent on it. A connection the
 * master hands over meanwhile may wait for the request under way: the grace is short, so that
 * a request stuck from its start takes only those that come in its first milliseconds. 2 ms
 * left the master 2-7 µs a request at that rate, 1 ms 20-33.
 */
export const SATURATION_GRACE_MS = 2;

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
  /** Set while a saturation the master has not heard of waits out its grace. */
  #grace: NodeJS.Timeout | undefined;

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
    if (this.#free) {
      // The master counts the app free. Busy threads wait out the grace, so that a saturation
      // that ends first is never told; an app that can start nothing at all is told at once.
      const load = this.#look();
      if (load.free) {
        this.#endGrace();
        return;
      }
      if (!load.blocked) {
        this.#grace ??= setTimeout(this.#graceOver, SATURATION_GRACE_MS).unref();
        return;
      }
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#report();
    });
  }

  readonly #graceOver = (): void => {
    this.#grace = undefined;
    this.#report();
  };

  #endGrace(): void {
    if (this.#grace === undefined) return;
    clearTimeout(this.#grace);
    this.#grace = undefined;
  }

  #report(): void {
    const load = this.#now();
    if (load.free) this.#endGrace();
    if (load.free === this.#free && load.progressing === this.#progressing) return;
    this.#free = load.free;
    this.#progressing = load.progressing;
    this.#send({ type: 'load', ...load });
  }

  #now(): Load {
    const { free, waiting, served } = this.#look();
    return { free, waiting, progressing: free || served > this.#servedWhenFull };
  }

  /**
   * The app's load; progress counts from the first look that found it saturated, the start of
   * its grace included, so that an app working through a queue in those milliseconds is told as
   * progressing at once rather than in a message of its own at its next finished request.
   */
  #look(): AppLoad {
    const load = this.#load();
    if (load.free || this.#seenFree) this.#servedWhenFull = load.served;
    this.#seenFree = load.free;
    return load;
  }
}

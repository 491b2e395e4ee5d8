// The request timeout's bookkeeping: the requests under way, and one sweep over them every
// quarter of request_timeout instead of a timer per request. A request on whose connection no
// byte has moved either way, from one sweep to another at least request_timeout later, is
// handed to `onStall` (so it is ended after between one and one and a quarter timeouts of
// stillness). What counts as moving is the caller's: an HTTP/1.1 connection's bytes, an HTTP/2
// stream's own. Runs in a worker.

interface Watched<Req> {
  readonly req: Req;
  /** What had moved when a sweep last saw it change (nothing read before the first). */
  moved: number;
  /** When that sweep ran; UNSEEN until the first sweep after the request came. */
  since: number;
}

const UNSEEN = -1;

export class RequestTimeouts<Req, Res> {
  readonly #timeoutMs: number;
  /** Bytes moved either way so far, as the caller counts them. */
  readonly #moved: (req: Req, res: Res) => number;
  readonly #onStall: (req: Req, res: Res) => void;
  readonly #watched = new Map<Res, Watched<Req>>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, moved: (req: Req, res: Res) => number, onStall: (req: Req, res: Res) => void) {
    this.#timeoutMs = timeoutMs;
    this.#moved = moved;
    this.#onStall = onStall;
  }

  watch(req: Req, res: Res): void {
    // What moved is read at the first sweep that sees the request (UNSEEN), not here: reading
    // a socket's byte counts costs, and most requests end before any sweep.
    this.#watched.set(res, { req, moved: 0, since: UNSEEN });
    if (this.#sweeper === undefined) {
      // Sweeps only while requests are under way; never what keeps the worker alive.
      this.#sweeper = setInterval(this.#sweep, this.#timeoutMs / 4);
      this.#sweeper.unref();
    }
  }

  /** The response is complete, or its connection closed. */
  unwatch(res: Res): void {
    this.#watched.delete(res);
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    for (const [res, watched] of this.#watched) {
      const moved = this.#moved(watched.req, res);
      if (watched.since === UNSEEN || moved !== watched.moved) {
        watched.moved = moved;
        watched.since = now;
      } else if (now - watched.since >= this.#timeoutMs) {
        this.#watched.delete(res);
        this.#onStall(watched.req, res);
      }
    }
    if (this.#watched.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };
}

// The request timeout's bookkeeping: the requests under way, and one sweep over them every
// quarter of request_timeout instead of a timer per request. A request on whose connection no
// byte has moved either way, from one sweep to another at least request_timeout later, is
// handed to `onStall` (so it is ended after between one and one and a quarter timeouts of
// stillness). What counts as moving is the caller's: an HTTP/1.1 connection's bytes, an HTTP/2
// stream's own. Runs in a worker.

import { IdTable } from '@bicorn/runtime/id-table';

interface Watched<Req, Res> {
  readonly req: Req;
  readonly res: Res;
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
  /** By the caller's number for the request: not a Map, which an entry per request churns into long-lived garbage (@bicorn/runtime/id-table). */
  readonly #watched = new IdTable<Watched<Req, Res>>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, moved: (req: Req, res: Res) => number, onStall: (req: Req, res: Res) => void) {
    this.#timeoutMs = timeoutMs;
    this.#moved = moved;
    this.#onStall = onStall;
  }

  /** `id`: the caller's number for this request, unique among those watched. */
  watch(id: number, req: Req, res: Res): void {
    // What moved is read at the first sweep that sees the request (UNSEEN), not here: reading
    // a socket's byte counts costs, and most requests end before any sweep.
    this.#watched.set(id, { req, res, moved: 0, since: UNSEEN });
    if (this.#sweeper === undefined) {
      // Sweeps only while requests are under way; never what keeps the worker alive.
      this.#sweeper = setInterval(this.#sweep, this.#timeoutMs / 4);
      this.#sweeper.unref();
    }
  }

  /** The response is complete, or its connection closed. */
  unwatch(id: number): void {
    this.#watched.delete(id);
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    for (const id of this.#watched.ids()) {
      const watched = this.#watched.get(id);
      if (watched === undefined) continue;
      const moved = this.#moved(watched.req, watched.res);
      if (watched.since === UNSEEN || moved !== watched.moved) {
        watched.moved = moved;
        watched.since = now;
      } else if (now - watched.since >= this.#timeoutMs) {
        this.#watched.delete(id);
        this.#onStall(watched.req, watched.res);
      }
    }
    if (this.#watched.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };
}

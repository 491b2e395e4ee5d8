// The request timeout's bookkeeping: the requests under way, and one sweep over them every
// quarter of request_timeout instead of a timer per request. A request on whose connection no
// byte has moved either way, from one sweep to another at least request_timeout later, is
// handed to `onStall` (so it is ended after between one and one and a quarter timeouts of
// stillness). Runs in a worker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Watched {
  readonly req: IncomingMessage;
  readonly socket: Socket;
  /** Bytes read and written on the connection when a sweep last saw them change. */
  moved: number;
  /** When that sweep ran; UNSEEN until the first sweep after the request came. */
  since: number;
}

const UNSEEN = -1;

export class RequestTimeouts {
  readonly #timeoutMs: number;
  readonly #onStall: (req: IncomingMessage, res: ServerResponse) => void;
  readonly #watched = new Map<ServerResponse, Watched>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, onStall: (req: IncomingMessage, res: ServerResponse) => void) {
    this.#timeoutMs = timeoutMs;
    this.#onStall = onStall;
  }

  watch(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    this.#watched.set(res, { req, socket, moved: socket.bytesRead + socket.bytesWritten, since: UNSEEN });
    if (this.#sweeper === undefined) {
      // Sweeps only while requests are under way; never what keeps the worker alive.
      this.#sweeper = setInterval(this.#sweep, this.#timeoutMs / 4);
      this.#sweeper.unref();
    }
  }

  /** The response is complete, or its connection closed. */
  unwatch(res: ServerResponse): void {
    this.#watched.delete(res);
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    for (const [res, watched] of this.#watched) {
      const moved = watched.socket.bytesRead + watched.socket.bytesWritten;
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

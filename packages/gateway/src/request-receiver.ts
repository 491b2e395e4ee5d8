// The receive() side of one ASGI HTTP exchange: reads the request body from node:http only
// when the app asks, so a slow app leaves the upload in the socket, not in worker memory.
// Runs in the worker.
import type { IncomingMessage } from 'node:http';
import type { HttpDisconnectEvent, HttpReceiveEvent } from './asgi-types.js';

const EMPTY = Buffer.alloc(0);
const DISCONNECT: HttpDisconnectEvent = Object.freeze({ type: 'http.disconnect' });

type Waiter = (event: HttpReceiveEvent) => void;

export class RequestReceiver {
  readonly #req: IncomingMessage;
  readonly #waiters: Waiter[] = [];
  #listening = false;
  #bodyDone = false;
  // The response is complete or the client is gone: every receive() now yields http.disconnect.
  #closed = false;

  constructor(req: IncomingMessage) {
    this.#req = req;
  }

  readonly receive = (): Promise<HttpReceiveEvent> => {
    if (!this.#listening && !this.#closed) {
      // Attached on first use, so that an app that never reads costs nothing. In paused mode
      // the stream holds at most its high-water mark, then stops reading the socket: TCP is
      // the backpressure for an app that calls receive() slowly.
      this.#listening = true;
      this.#req.on('readable', this.#pump);
      // node:http2's request is complete only once it has ended, after its last 'readable'.
      this.#req.once('end', this.#pump);
    }
    if (this.#waiters.length === 0) {
      const event = this.#next();
      if (event !== undefined) return Promise.resolve(event);
    }
    return new Promise<HttpReceiveEvent>((resolve) => {
      this.#waiters.push(resolve);
    });
  };

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#bodyDone) {
      // Discard the unread rest of the body so the connection can serve its next request.
      if (this.#listening) {
        this.#req.removeListener('readable', this.#pump);
        this.#req.removeListener('end', this.#pump);
      }
      this.#req.resume();
    }
    this.#pump();
  }

  readonly #pump = (): void => {
    while (this.#waiters.length > 0) {
      const event = this.#next();
      if (event === undefined) return;
      this.#waiters.shift()?.(event);
    }
  };

  #next(): HttpReceiveEvent | undefined {
    if (this.#closed) return DISCONNECT;
    if (this.#bodyDone) return undefined;
    const req = this.#req;
    const chunk: unknown = req.read();
    if (chunk instanceof Buffer) {
      const more = !(req.complete && req.readableLength === 0);
      if (!more) this.#bodyDone = true;
      return { type: 'http.request', body: chunk, more_body: more };
    }
    if (req.complete) {
      this.#bodyDone = true;
      return { type: 'http.request', body: EMPTY, more_body: false };
    }
    return undefined;
  }
}

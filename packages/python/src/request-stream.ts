// A request body read from the client only as fast as the runner takes it, for ASGI apps: the
// app gets http.request events as the bytes arrive, and the worker holds no more than the
// request's read buffer (node stops reading the socket past it) and the piece on its way.
// Runs in the worker, per request with a body.
import type { IncomingMessage } from 'node:http';

/** Where a request body's bytes come from, piece by piece: the client, or a body received whole. */
export interface BodySource {
  /** The next piece of at most `max` bytes, or null at the end. */
  read(max: number): Promise<Buffer | null>;
  /** Releases what it holds (memory, a file, the rest of the client's body) now. */
  destroy(): Promise<void>;
}

/** read() after the client left before sending its whole body. */
export class ClientLeft extends Error {
  constructor() {
    super('the client left before sending its whole request body');
  }
}

export class RequestStream implements BodySource {
  readonly #req: IncomingMessage;
  /** What a read took from the request beyond its `max`. */
  #held: Buffer | undefined;
  #wake: (() => void) | undefined;
  /** Destroyed: reads end. */
  #over = false;
  #closed = false;

  constructor(req: IncomingMessage) {
    this.#req = req;
    // A 'readable' listener keeps the request paused: bytes are read only when asked for.
    req.on('readable', this.#onChange);
    // node:http2's request is complete only once it has ended, after its last 'readable'.
    req.once('end', this.#onChange);
    req.on('close', this.#onClose);
  }

  async read(max: number): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.#held ?? (this.#over ? null : (this.#req.read() as Buffer | null));
      this.#held = undefined;
      if (chunk !== null) {
        if (chunk.length <= max) return chunk;
        this.#held = chunk.subarray(max);
        return chunk.subarray(0, max);
      }
      if (this.#req.complete || this.#over) return null;
      if (this.#closed || this.#req.destroyed) throw new ClientLeft();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Stops reading; the unread rest of the body is discarded, so the connection can go on. */
  destroy(): Promise<void> {
    if (!this.#over) {
      this.#over = true;
      this.#held = undefined;
      this.#req.off('readable', this.#onChange);
      this.#req.off('end', this.#onChange);
      this.#req.off('close', this.#onClose);
      this.#req.resume();
      this.#onChange();
    }
    return Promise.resolve();
  }

  readonly #onClose = (): void => {
    this.#closed = true;
    this.#onChange();
  };

  readonly #onChange = (): void => {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };
}

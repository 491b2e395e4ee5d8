// A request body the runner received from the client's socket itself and holds until the request
// goes to the app as HTTP_REQUEST with HELD (frames/SPEC.md, "Receiving a body from the client's
// socket"): the worker has none of its bytes, only its size and what it owes once the body
// goes. Runs in the worker, per request whose body the runner received.
import type { BodySource } from './request-stream.js';

export class HeldBody implements BodySource {
  readonly size: number;
  /** Gives back what the body held here (its upload_memory); `sent`: the runner's stream has it, else the runner is to drop it. */
  readonly #release: (sent: boolean) => void;
  #sent = false;
  #released = false;

  constructor(size: number, release: (sent: boolean) => void) {
    this.size = size;
    this.#release = release;
  }

  /** The request went with HELD: the body is the app's now. */
  markSent(): void {
    this.#sent = true;
  }

  read(): Promise<Buffer | null> {
    return Promise.reject(new Error('a body the runner holds is read there, not in the worker'));
  }

  destroy(): Promise<void> {
    if (!this.#released) {
      this.#released = true;
      this.#release(this.#sent);
    }
    return Promise.resolve();
  }
}

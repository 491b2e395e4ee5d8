// The way of a response body to a client that reads slower than the app writes: what the
// socket takes now goes out now; past that, bytes wait in an unlinked temporary file of the
// spool and the app gets its credit back once they are on disk, so a slow client never holds a
// Python thread (as nginx's proxy buffering does). Past MAX_SPOOL, or past the worker's spool
// budget, bytes wait in memory instead and are credited only once they reach the socket: the
// app waits for the client again, and holds no more than the stream window here. Runs in the
// worker, per response.
import type { ServerResponse } from 'node:http';
import type { Spool, SpoolFile } from './spool.js';

/** The most a response may put on disk before its app has to wait for the client (as nginx's default). */
export const MAX_SPOOL = 1024 * 1024 * 1024;
const READ_PIECE = 256 * 1024;

export class ResponseSpool {
  readonly #res: ServerResponse;
  readonly #credit: (bytes: number) => void;
  readonly #spool: Spool;
  #file: SpoolFile | undefined;
  /** Set for good once bytes first wait: later bytes queue behind them, never overtake them. */
  #spooling = false;
  /** Bytes written to the file, and sent from it. */
  #written = 0;
  #sent = 0;
  /** Bytes that wait in memory, behind the file's, not credited yet. */
  readonly #tail: Buffer[] = [];
  /** The socket pushed back: nothing more goes to it until 'drain'. */
  #blocked = false;
  /** Bytes node holds for the blocked socket, not yet credited; credited on 'drain'. */
  #buffered = 0;
  #ended = false;
  #destroyed = false;
  /** File writes and reads, one after the other. */
  #work: Promise<void> = Promise.resolve();

  constructor(res: ServerResponse, credit: (bytes: number) => void, spool: Spool) {
    this.#res = res;
    this.#credit = credit;
    this.#spool = spool;
    res.on('drain', () => {
      this.#onDrain();
    });
  }

  write(body: Buffer, last: boolean): void {
    if (!this.#spooling && !this.#blocked) {
      if (last) this.#res.end(body);
      else if (this.#res.write(body)) this.#credit(body.length);
      else {
        this.#blocked = true;
        this.#buffered = body.length;
      }
      return;
    }
    this.#spooling = true;
    this.#enqueue(async () => {
      this.#ended = last;
      const toDisk = this.#tail.length === 0 && this.#written + body.length <= MAX_SPOOL && this.#spool.reserve(body.length);
      if (toDisk) {
        this.#file ??= await this.#spool.open('response');
        await this.#file.write(body, 0, body.length, this.#written);
        this.#written += body.length;
        this.#credit(body.length);
      } else if (body.length > 0) {
        this.#tail.push(body);
      }
      await this.#sendSpooled();
    });
  }

  /** Stops, closes the file once the step under way is done, and gives its bytes back to the budget; call when the response has closed. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#work;
    await this.#file?.close();
    this.#file = undefined;
    this.#spool.release(this.#written);
    this.#written = 0;
  }

  #onDrain(): void {
    this.#blocked = false;
    if (this.#buffered > 0) {
      this.#credit(this.#buffered);
      this.#buffered = 0;
    }
    this.#enqueue(() => this.#sendSpooled());
  }

  /** Sends what waits, the file's bytes first, until the socket pushes back or nothing is left. */
  async #sendSpooled(): Promise<void> {
    if (this.#blocked || this.#res.destroyed) return;
    while (this.#file !== undefined && this.#sent < this.#written) {
      const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, this.#written - this.#sent));
      const { bytesRead } = await this.#file.read(piece, 0, piece.length, this.#sent);
      this.#sent += bytesRead;
      if (!this.#res.write(piece.subarray(0, bytesRead))) {
        this.#blocked = true;
        return;
      }
    }
    for (let piece = this.#tail.shift(); piece !== undefined; piece = this.#tail.shift()) {
      if (!this.#res.write(piece)) {
        this.#blocked = true;
        this.#buffered += piece.length; // credited on drain, like any bytes node holds
        return;
      }
      this.#credit(piece.length);
    }
    if (this.#ended) this.#res.end();
  }

  #enqueue(step: () => Promise<void>): void {
    this.#work = this.#work.then(() => (this.#destroyed ? undefined : step())).catch((error: unknown) => {
      this.#res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  }
}

// The way of a response body to a client that reads slower than the app writes: what the
// socket takes now goes out now; past that, bytes wait in an unlinked temporary file and the
// app gets its credit back once they are on disk, so a slow client never holds a Python
// thread (as nginx's proxy buffering does). Past MAX_SPOOL the app waits for the client again.
// Runs in the worker, per response.
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { openSpoolFile } from './spool-file.js';

/** The most a response may put on disk before its app has to wait for the client (as nginx's default). */
export const MAX_SPOOL = 1024 * 1024 * 1024;
const READ_PIECE = 256 * 1024;

export class ResponseSpool {
  readonly #res: ServerResponse;
  readonly #credit: (bytes: number) => void;
  #file: FileHandle | undefined;
  /** Set for good once bytes first wait: later bytes queue behind them, never overtake them. */
  #spooling = false;
  #written = 0;
  #sent = 0;
  /** The socket pushed back: nothing more goes to it until 'drain'. */
  #blocked = false;
  /** Bytes node holds for the blocked socket, not yet credited; credited on 'drain'. */
  #buffered = 0;
  /** Spooled bytes past MAX_SPOOL, credited only when they reach the socket. */
  #owed = 0;
  #ended = false;
  #destroyed = false;
  /** File writes and reads, one after the other. */
  #work: Promise<void> = Promise.resolve();

  constructor(res: ServerResponse, credit: (bytes: number) => void) {
    this.#res = res;
    this.#credit = credit;
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
      this.#file ??= await openSpoolFile('response');
      await this.#file.write(body, 0, body.length, this.#written);
      this.#written += body.length;
      this.#ended = last;
      if (this.#written <= MAX_SPOOL) this.#credit(body.length);
      else this.#owed += body.length;
      await this.#sendSpooled();
    });
  }

  /** Stops, and closes the file once the step under way is done; call when the response has closed. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#work;
    await this.#file?.close();
    this.#file = undefined;
  }

  #onDrain(): void {
    this.#blocked = false;
    if (this.#buffered > 0) {
      this.#credit(this.#buffered);
      this.#buffered = 0;
    }
    this.#enqueue(() => this.#sendSpooled());
  }

  /** Sends spooled bytes until the socket pushes back or the spool is empty. */
  async #sendSpooled(): Promise<void> {
    const file = this.#file;
    if (file === undefined || this.#blocked || this.#res.destroyed) return;
    while (this.#sent < this.#written) {
      const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, this.#written - this.#sent));
      const { bytesRead } = await file.read(piece, 0, piece.length, this.#sent);
      this.#sent += bytesRead;
      const owed = Math.min(this.#owed, bytesRead);
      this.#owed -= owed;
      if (!this.#res.write(piece.subarray(0, bytesRead))) {
        this.#blocked = true;
        this.#buffered = owed; // credited on drain, like any bytes node holds
        return;
      }
      if (owed > 0) this.#credit(owed);
    }
    if (this.#ended) this.#res.end();
  }

  #enqueue(step: () => Promise<void>): void {
    this.#work = this.#work.then(() => (this.#destroyed ? undefined : step())).catch((error: unknown) => {
      this.#res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  }
}

// The way of a response body to its client: bytes go to the socket as they come (those of one turn
// of the event loop in one write), and the app gets its credit back as the socket takes them, a
// quarter window at a time. Only when the whole stream window has waited for a client that took
// less than a window in STALL_MS (slower than 10 MiB/s with the default window), the worker gives
// the app that credit back, and what the app sends next waits in an unlinked temporary file of the
// spool until the client takes it: a slow client holds a Python thread for about STALL_MS (as
// nginx's proxy buffering frees its upstream), and a client that keeps up never makes a byte touch
// the disk. Once the client has taken what waited, bytes go straight to the socket again and the
// file closes. Past MAX_SPOOL, or past the worker's spool budget, bytes wait in memory instead,
// credited only once the socket takes them: the app waits for the client again, and no more than
// two windows wait here. Runs in the worker, per response.
import type { ServerResponse } from 'node:http';
import type { Spool, SpoolFile } from './spool.js';

/** The most a response may put on disk before its app has to wait for the client (as nginx's default). */
export const MAX_SPOOL = 1024 * 1024 * 1024;
/**
 * How long the whole window may wait for a client that takes less than a window meanwhile
 * before the app goes on and the spool takes the rest: long enough for a client that reads at
 * full speed but lost its core for a moment on a busy machine, short beside any request timeout.
 */
export const STALL_MS = 100;
const READ_PIECE = 256 * 1024;

export class ResponseSpool {
  readonly #res: ServerResponse;
  readonly #credit: (bytes: number) => void;
  readonly #spool: Spool;
  /** The stream window: the most the app may have sent and not had credited. */
  readonly #window: number;
  /** Bytes written to the socket that it has not taken yet, not credited. */
  #held = 0;
  /** Bytes the socket took that are not credited yet. */
  #owed = 0;
  /** Bumped when held bytes are lent to the app: the socket taking them later credits nothing. */
  #lent = 0;
  /** Runs out STALL_MS after the whole window came to wait for the client. */
  #stall: NodeJS.Timeout | undefined;
  /** Bytes of the held ones the socket has taken so far, and how many it had when the stall timer started. */
  #taken = 0;
  #takenAtStall = 0;
  /** The socket pushed back: nothing more goes to it from the file or the tail until 'drain'. */
  #blocked = false;
  /** Bytes wait in the file or the tail: later bytes queue behind them, never overtake them. */
  #waiting = false;
  #file: SpoolFile | undefined;
  /** Bytes written to the file, and sent from it. */
  #written = 0;
  #sent = 0;
  /** Bytes that wait in memory, behind the file's, not credited yet. */
  readonly #tail: Buffer[] = [];
  #ended = false;
  #destroyed = false;
  /** The socket is corked until the end of this turn of the event loop. */
  #corked = false;
  /** File writes and reads, one after the other, and how many steps are queued. */
  #work: Promise<void> = Promise.resolve();
  #queued = 0;

  constructor(res: ServerResponse, credit: (bytes: number) => void, spool: Spool, window: number) {
    this.#res = res;
    this.#credit = credit;
    this.#spool = spool;
    this.#window = window;
    res.on('drain', () => {
      this.#blocked = false;
      if (this.#waiting) this.#enqueue(() => this.#sendWaiting());
    });
  }

  write(body: Buffer, last: boolean): void {
    if (!this.#waiting && this.#queued === 0) this.#toSocket(body, last);
    else this.#enqueue(() => this.#take(body, last));
  }

  /** Nothing waits here for the socket (in the file, in memory, or in a queued step): the next byte would go straight to it. */
  get idle(): boolean {
    return !this.#waiting && this.#queued === 0;
  }

  /** Stops, closes the file once the step under way is done, and gives its bytes back to the budget; call when the response has closed. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    clearTimeout(this.#stall);
    await this.#work;
    await this.#closeFile();
  }

  #toSocket(body: Buffer, last: boolean): void {
    if (last) this.#res.end(body);
    else if (!this.#writeHeld(body)) this.#blocked = true;
  }

  /**
   * Writes bytes not credited yet: credited once the socket takes them; the stall timer starts
   * once the app has its whole window out (these, and taken bytes whose credit is held back).
   */
  #writeHeld(body: Buffer): boolean {
    const lent = this.#lent;
    this.#held += body.length;
    if (!this.#corked) this.#corkForTurn();
    const below = this.#res.write(body, () => {
      this.#taken += body.length;
      if (lent !== this.#lent) return;
      this.#held -= body.length;
      this.#owed += body.length;
      // One CREDIT per quarter window, not one per write: each wakes the runner. What is held
      // back is under a quarter window, so it never stalls the app (frames/SPEC.md).
      if (this.#owed >= this.#window / 4) {
        this.#credit(this.#owed);
        this.#owed = 0;
      }
    });
    if (this.#held + this.#owed >= this.#window) this.#watchStall();
    return below;
  }

  /**
   * The runner's frames come in reads of 64 KiB, several in a turn: written as each comes, each
   * made a TCP send and woke the client; corked, they leave in one write at the end of the turn
   * (a 10 MiB download: 14% less of the worker's CPU). Uncorks the socket it corked, which
   * stays the same though the response may have let go of it by then.
   */
  #corkForTurn(): void {
    const socket = this.#res.socket;
    if (socket === null) return;
    this.#corked = true;
    socket.cork();
    setImmediate(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  #watchStall(): void {
    if (this.#stall !== undefined) return;
    this.#takenAtStall = this.#taken;
    this.#stall = setTimeout(this.#onStall, STALL_MS);
    this.#stall.unref();
  }

  /**
   * STALL_MS after the whole window came to wait: a client that took a window meanwhile keeps
   * up; else the app gets its credit, and what it sends next waits on disk, while the disk may
   * take it. Lent once until the client has caught up, so that what waits in memory stays
   * within two windows.
   */
  readonly #onStall = (): void => {
    this.#stall = undefined;
    if (this.#destroyed || this.#waiting || this.#res.writableEnded) return;
    if (this.#taken - this.#takenAtStall >= this.#window) {
      if (this.#held + this.#owed >= this.#window) this.#watchStall();
      return;
    }
    if (this.#held === 0 || !this.#spool.hasRoom()) return;
    this.#credit(this.#held + this.#owed);
    this.#held = 0;
    this.#owed = 0;
    this.#lent += 1;
    this.#waiting = true;
  };

  async #take(body: Buffer, last: boolean): Promise<void> {
    if (!this.#waiting) {
      this.#toSocket(body, last);
      return;
    }
    this.#ended = last;
    if (body.length === 0) {
      // Nothing to keep.
    } else if (this.#tail.length === 0 && this.#written + body.length <= MAX_SPOOL && this.#spool.reserve(body.length)) {
      this.#file ??= await this.#spool.open('response');
      await this.#file.write(body, 0, body.length, this.#written);
      this.#written += body.length;
      this.#credit(body.length);
    } else {
      this.#tail.push(body);
    }
    await this.#sendWaiting();
  }

  /**
   * Sends what waits, the file's bytes first, until the socket pushes back; once nothing is
   * left, closes the file and lets bytes go straight to the socket again.
   */
  async #sendWaiting(): Promise<void> {
    if (this.#blocked || this.#res.destroyed) return;
    while (this.#file !== undefined && this.#sent < this.#written) {
      const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, this.#written - this.#sent));
      const { bytesRead } = await this.#file.read(piece, 0, piece.length, this.#sent);
      this.#sent += bytesRead;
      // Credited when they went to disk.
      if (!this.#res.write(piece.subarray(0, bytesRead))) {
        this.#blocked = true;
        return;
      }
    }
    for (let piece = this.#tail.shift(); piece !== undefined; piece = this.#tail.shift()) {
      if (!this.#writeHeld(piece)) {
        this.#blocked = true;
        return;
      }
    }
    await this.#closeFile();
    this.#waiting = false;
    if (this.#ended) this.#res.end();
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    await file.close();
    this.#spool.release(this.#written);
    this.#written = 0;
    this.#sent = 0;
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queued += 1;
    this.#work = this.#work
      .then(() => (this.#destroyed ? undefined : step()))
      .catch((error: unknown) => {
        this.#res.destroy(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        this.#queued -= 1;
      });
  }
}

// A request body received whole before a WSGI app sees the request, so that a slow client
// never holds a Python thread: kept in memory while the worker's uploads in memory fit in
// upload_memory, else spilled to an unlinked temporary file of the spool, within its budget.
// Where the Python process may open that file itself, a body larger than a stream window goes
// there at once: the app reads it straight from the file, which costs less than taking it in
// frames, window after window. Runs in the worker, per request with a body.
import type { IncomingMessage } from 'node:http';
import { SEPARATE_BODY } from '@bicorn/protocol';
import type { BodySource } from './request-stream.js';
import { SpoolFull, type Spool, type SpoolFile } from './spool.js';

/** Once on disk, received bytes go to the file in writes of about this size: a round trip to the thread pool each, not one per chunk the socket gave. */
const WRITE_BATCH = 1024 * 1024;

export class RequestBody implements BodySource {
  readonly #spool: Spool;
  /**
   * Received bytes not in the file: the whole body while it stays in memory, as node's socket
   * gave it (read back as views, never copied), else those still to write.
   */
  #chunks: Buffer[] = [];
  #size = 0;
  #file: SpoolFile | undefined;
  #written = 0;
  /** Where reading is: a chunk and an offset in it while in memory, else the file offset. */
  #readChunk = 0;
  #readAt = 0;
  /** Bytes of the memory budget, and of the disk budget, this body holds. */
  #inMemory = 0;
  #onDisk = 0;
  readonly #onDiskPast: number;

  private constructor(spool: Spool, onDiskPast: number) {
    this.#spool = spool;
    this.#onDiskPast = onDiskPast;
  }

  /**
   * Receives the whole body; resolves when the client has sent it, rejects if it left, or with
   * SpoolFull when it fits neither in memory nor on disk (at once for a declared length). A
   * body of more than `onDiskPast` bytes goes to the spool file while its budget has room.
   * `start`: bytes of the body already taken from the request (holdReading()).
   */
  static async receive(req: IncomingMessage, spool: Spool, onDiskPast = Infinity, start: readonly Buffer[] = []): Promise<RequestBody> {
    const body = new RequestBody(spool, onDiskPast);
    const declared = Number(req.headers['content-length']);
    try {
      if (declared > 0 && !body.#keepInMemory(declared)) await body.#spill(declared);
      for (const chunk of start) await body.#add(chunk);
      // Not destroyed on a refusal: the client still gets its 503.
      for await (const chunk of req.iterator({ destroyOnReturn: false })) await body.#add(chunk as Buffer);
      await body.#write();
    } catch (error) {
      await body.destroy();
      throw error;
    }
    return body;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * The path a child process opens the body by, when it is on disk and may be opened so (the
   * Python process then reads it itself, instead of taking it in frames): its file, written
   * whole once receive() has resolved.
   */
  get sharedPath(): string | undefined {
    return this.#file !== undefined && this.#spool.shareable ? this.#file.sharedPath : undefined;
  }

  /** Whether the body, at `size` bytes, stays in memory (taking it from upload_memory), rather than go to the file. */
  #keepInMemory(size: number): boolean {
    if (size > this.#onDiskPast && this.#spool.left >= size) return false;
    return this.#hold(size);
  }

  /** Takes memory for the body up to `size` bytes; false when upload_memory has not that much left. */
  #hold(size: number): boolean {
    if (size <= this.#inMemory) return true;
    if (!this.#spool.memory.reserve(size - this.#inMemory)) return false;
    this.#inMemory = size;
    return true;
  }

  /** Moves the body to a spool file, with room on disk for `size` bytes; throws SpoolFull when the budget has not that much left. */
  async #spill(size: number): Promise<void> {
    if (!this.#spool.reserve(size)) throw new SpoolFull();
    this.#onDisk = size;
    // Given back before the held chunks are written: they leave memory with #add's next write.
    this.#spool.memory.release(this.#inMemory);
    this.#inMemory = 0;
    this.#file = await this.#spool.open('request');
  }

  async #add(chunk: Buffer): Promise<void> {
    this.#size += chunk.length;
    this.#chunks.push(chunk);
    if (this.#file === undefined) {
      if (this.#keepInMemory(this.#size)) return;
      await this.#spill(this.#size);
    }
    if (this.#size > this.#onDisk) {
      if (!this.#spool.reserve(this.#size - this.#onDisk)) throw new SpoolFull();
      this.#onDisk = this.#size;
    }
    if (this.#size - this.#written >= WRITE_BATCH) await this.#write();
  }

  /** Writes what waits in memory to the file, once the body has spilled there. */
  async #write(): Promise<void> {
    if (this.#file === undefined || this.#chunks.length === 0) return;
    const chunks = this.#chunks;
    this.#chunks = [];
    await this.#file.writev(chunks, this.#written);
    this.#written += chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /**
   * The next piece of at most `max` bytes, or null at the end. Reading does not consume: the
   * bytes stay until the body is destroyed.
   */
  async read(max: number): Promise<Buffer | null> {
    if (this.#file === undefined) return this.#readMemory(max);
    if (this.#readAt >= this.#size) return null;
    const length = Math.min(max, this.#size - this.#readAt);
    const piece = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.#file.read(piece, 0, length, this.#readAt);
    this.#readAt += bytesRead;
    return piece.subarray(0, bytesRead);
  }

  /**
   * From memory: a piece of SEPARATE_BODY or more of one chunk node gave goes as a view of it,
   * never copied; smaller ones (a client that sends in dribs) are gathered into one copy, up to
   * `max`, as the frame encoder would copy them anyway.
   */
  #readMemory(max: number): Buffer | null {
    const pieces: Buffer[] = [];
    let length = 0;
    for (let chunk = this.#chunks[this.#readChunk]; chunk !== undefined && length < max; chunk = this.#chunks[this.#readChunk]) {
      const piece = chunk.subarray(this.#readAt, this.#readAt + max - length);
      const large = piece.length >= SEPARATE_BODY;
      if (large && pieces.length > 0) break;
      pieces.push(piece);
      length += piece.length;
      this.#readAt += piece.length;
      if (this.#readAt === chunk.length) {
        this.#readChunk += 1;
        this.#readAt = 0;
      }
      if (large) break;
    }
    const [first] = pieces;
    if (length === 0 || first === undefined) return null;
    return pieces.length === 1 ? first : Buffer.concat(pieces, length);
  }

  async destroy(): Promise<void> {
    this.#chunks = [];
    this.#size = 0;
    this.#spool.memory.release(this.#inMemory);
    this.#inMemory = 0;
    await this.#file?.close();
    this.#file = undefined;
    this.#spool.release(this.#onDisk);
    this.#onDisk = 0;
  }
}

// A request body received whole before a WSGI app sees the request, so that a slow client
// never holds a Python thread: kept in memory up to a threshold, then spilled to an unlinked
// temporary file of the spool, within its budget. Runs in the worker, per request with a body.
import type { IncomingMessage } from 'node:http';
import type { BodySource } from './request-stream.js';
import { SpoolFull, type Spool, type SpoolFile } from './spool.js';

/** Bodies up to this size stay in memory. */
export const MEMORY_LIMIT = 1024 * 1024;
/** Past MEMORY_LIMIT, received bytes go to the file in writes of about this size: a round trip to the thread pool each, not one per chunk the socket gave. */
const WRITE_BATCH = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export class RequestBody implements BodySource {
  readonly #spool: Spool;
  /** Received bytes not in the file: the whole body while it stays in memory, else those still to write. */
  #chunks: Buffer[] = [];
  /** The body once received, when it stayed in memory. */
  #whole: Buffer | undefined;
  #size = 0;
  #file: SpoolFile | undefined;
  #written = 0;
  #readAt = 0;
  /** Bytes of the spool budget this body holds. */
  #reserved = 0;

  private constructor(spool: Spool) {
    this.#spool = spool;
  }

  /**
   * Receives the whole body; resolves when the client has sent it, rejects if it left, or with
   * SpoolFull when it cannot wait on disk (at once for a declared length, else when it spills).
   */
  static async receive(req: IncomingMessage, spool: Spool): Promise<RequestBody> {
    const body = new RequestBody(spool);
    const declared = Number(req.headers['content-length']);
    if (declared > MEMORY_LIMIT && !body.#reserve(declared)) throw new SpoolFull();
    try {
      // Not destroyed on a refusal: the client still gets its 503.
      for await (const chunk of req.iterator({ destroyOnReturn: false })) await body.#add(chunk as Buffer);
      await body.#write();
    } catch (error) {
      await body.destroy();
      throw error;
    }
    if (body.#file === undefined) body.#whole = body.#chunks.length === 1 ? body.#chunks[0] : Buffer.concat(body.#chunks);
    body.#chunks = [];
    return body;
  }

  #reserve(bytes: number): boolean {
    if (!this.#spool.reserve(bytes)) return false;
    this.#reserved += bytes;
    return true;
  }

  get size(): number {
    return this.#size;
  }

  async #add(chunk: Buffer): Promise<void> {
    this.#size += chunk.length;
    this.#chunks.push(chunk);
    if (this.#file === undefined && this.#size <= MEMORY_LIMIT) return;
    if (this.#size > this.#reserved && !this.#reserve(this.#size - this.#reserved)) throw new SpoolFull();
    this.#file ??= await this.#spool.open('request');
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
   * bytes stay until the body is destroyed, for the request to be served again elsewhere.
   */
  async read(max: number): Promise<Buffer | null> {
    if (this.#readAt >= this.#size) return null;
    const length = Math.min(max, this.#size - this.#readAt);
    if (this.#file === undefined) {
      const piece = (this.#whole ?? EMPTY).subarray(this.#readAt, this.#readAt + length);
      this.#readAt += piece.length;
      return piece;
    }
    const piece = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.#file.read(piece, 0, length, this.#readAt);
    this.#readAt += bytesRead;
    return piece.subarray(0, bytesRead);
  }

  async destroy(): Promise<void> {
    this.#whole = undefined;
    this.#chunks = [];
    this.#size = 0;
    await this.#file?.close();
    this.#file = undefined;
    this.#spool.release(this.#reserved);
    this.#reserved = 0;
  }
}

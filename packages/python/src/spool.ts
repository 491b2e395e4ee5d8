// The worker's spool: unlinked temporary files in spool_dir for bodies on their way (uploads a
// WSGI app gets whole, responses a client reads slower than the app writes), the budget of bytes
// they may hold there together, and the count of the bytes written to them, which the worker
// logs when its Python process stops. Files are unlinked as soon as they are open, so nobody
// else can open them (but the worker's Python process, by /proc/<pid>/fd, for an upload it
// reads itself) and a crash leaves nothing behind. Beside the disk's budget, the spool
// keeps upload_memory's: the bytes of uploads held in memory instead, so that an upload that
// fits never touches the disk (unless the Python process reads it from there: request-body.ts).
// Runs in the worker.
import { statSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The budget is spent: an upload cannot wait on disk now. */
export class SpoolFull extends Error {
  constructor() {
    super('the spool budget is spent');
  }
}

export type SpoolKind = 'request' | 'response';

/** A spool file: written and read at offsets, then closed. */
export interface SpoolFile {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<void>;
  /** Writes the buffers back to back from `position`, in one call to the thread pool. */
  writev(buffers: readonly Buffer[], position: number): Promise<void>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ readonly bytesRead: number }>;
  close(): Promise<void>;
  /** Its path for a child process to open, while it is open (see Spool.shareable). */
  readonly sharedPath: string;
}

let count = 0;

/** A reserveWithin() waiting for its bytes, until its timer says no. */
interface BudgetWaiter {
  readonly bytes: number;
  readonly resolve: (taken: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

/** Bytes that may be held at once, taken and given back. */
export class Budget {
  #total: number;
  #left: number;
  /** In the order they asked: the first takes its bytes before any other. */
  readonly #waiting: BudgetWaiter[] = [];

  constructor(bytes: number) {
    this.#total = bytes;
    this.#left = bytes;
  }

  /** Makes the budget `bytes`: what is held stays held, and counts against the new one. */
  resize(bytes: number): void {
    this.#left += bytes - this.#total;
    this.#total = bytes;
    this.#serveWaiting();
  }

  /** Takes `bytes`; false when they are not left. It does not wait behind reserveWithin()'s waiting: those wait briefly. */
  reserve(bytes: number): boolean {
    if (bytes > this.#left) return false;
    this.#left -= bytes;
    return true;
  }

  /**
   * Takes `bytes`, waiting at most `waitMs` for others to give them back; resolves false when
   * they were not left by then (at once when they could never be: more than the whole budget).
   */
  reserveWithin(bytes: number, waitMs: number): Promise<boolean> {
    if (this.reserve(bytes)) return Promise.resolve(true);
    if (bytes > this.#total || waitMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: BudgetWaiter = {
        bytes,
        resolve,
        timer: setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          resolve(false);
          // Those behind it may fit now.
          this.#serveWaiting();
        }, waitMs),
      };
      this.#waiting.push(waiter);
    });
  }

  /** Gives back bytes taken, once they are no longer held. */
  release(bytes: number): void {
    this.#left += bytes;
    this.#serveWaiting();
  }

  #serveWaiting(): void {
    for (let first = this.#waiting[0]; first !== undefined && first.bytes <= this.#left; first = this.#waiting[0]) {
      this.#waiting.shift();
      clearTimeout(first.timer);
      this.#left -= first.bytes;
      first.resolve(true);
    }
  }

  /** The bytes not taken now. */
  get left(): number {
    return this.#left;
  }
}

export class Spool {
  readonly dir: string;
  readonly #disk: Budget;
  /** Uploads received whole that wait in memory, all together (upload_memory). */
  readonly memory: Budget;
  readonly #spooled: Record<SpoolKind, number> = { request: 0, response: 0 };
  #shareable: boolean | undefined;

  constructor(dir: string, budgetBytes: number, memoryBytes: number) {
    this.dir = dir;
    this.#disk = new Budget(budgetBytes);
    this.memory = new Budget(memoryBytes);
  }

  async open(kind: SpoolKind): Promise<SpoolFile> {
    const path = join(this.dir, `bicorn-${kind}-${String(process.pid)}-${String(++count)}`);
    const handle = await open(path, 'wx+', 0o600);
    await unlink(path);
    return {
      // Counted as written, so the count is whole whenever it is read, even while files close.
      write: async (buffer, offset, length, position) => {
        const { bytesWritten } = await handle.write(buffer, offset, length, position);
        this.#spooled[kind] += bytesWritten;
      },
      writev: async (buffers, position) => {
        const { bytesWritten } = await handle.writev(buffers, position);
        this.#spooled[kind] += bytesWritten;
        const wanted = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
        if (bytesWritten < wanted) throw new Error(`the spool file took ${String(bytesWritten)} of ${String(wanted)} bytes`);
      },
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
      close: () => handle.close(),
      sharedPath: `/proc/${String(process.pid)}/fd/${String(handle.fd)}`,
    };
  }

  /**
   * Whether a child process may open this process's files by their sharedPath: on Linux, where
   * /proc/<pid>/fd belongs to our user. A process that changed its user after it started is not
   * dumpable, and its /proc entries then belong to root.
   */
  get shareable(): boolean {
    if (this.#shareable === undefined) {
      try {
        this.#shareable = statSync(`/proc/${String(process.pid)}/fd`).uid === process.geteuid?.();
      } catch {
        this.#shareable = false;
      }
    }
    return this.#shareable;
  }

  /** The bytes written to this spool's files so far, by kind. */
  spooledBytes(): Record<SpoolKind, number> {
    return { ...this.#spooled };
  }

  /** Takes `bytes` of the disk budget; false when they are not left. */
  reserve(bytes: number): boolean {
    return this.#disk.reserve(bytes);
  }

  /** Whether any of the disk budget is left. */
  hasRoom(): boolean {
    return this.#disk.left > 0;
  }

  /** The bytes of the disk budget no file holds now. */
  get left(): number {
    return this.#disk.left;
  }

  /** Gives back bytes of the disk budget, once their file is closed. */
  release(bytes: number): void {
    this.#disk.release(bytes);
  }

  /** Makes the disk budget `bytes` (the worker's share changed): files open now keep what they hold. */
  resizeDisk(bytes: number): void {
    this.#disk.resize(bytes);
  }
}

// The worker's spool: unlinked temporary files in spool_dir for bodies on their way (uploads a
// WSGI app gets whole, responses a client reads slower than the app writes), and the budget of
// bytes they may hold there together, and the count of the bytes they held, which the worker
// logs when its Python process stops. Unlinked as soon as they are open, so nobody else can open
// them and a crash leaves nothing behind. Runs in the worker.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** The budget is spent: an upload cannot wait on disk now. */
export class SpoolFull extends Error {
  constructor() {
    super('the spool budget is spent');
  }
}

export type SpoolKind = 'request' | 'response';

let count = 0;

export class Spool {
  readonly dir: string;
  #left: number;
  readonly #spooled: Record<SpoolKind, number> = { request: 0, response: 0 };

  constructor(dir: string, budgetBytes: number) {
    this.dir = dir;
    this.#left = budgetBytes;
  }

  async open(kind: SpoolKind): Promise<FileHandle> {
    const path = join(this.dir, `bicorn-${kind}-${String(process.pid)}-${String(++count)}`);
    const handle = await open(path, 'wx+', 0o600);
    await unlink(path);
    this.#countOnClose(handle, kind);
    return handle;
  }

  /** The bytes written to this spool's files so far, by kind, counted as each file closes. */
  spooledBytes(): Record<SpoolKind, number> {
    return { ...this.#spooled };
  }

  // A spool file is written from offset 0 without gaps, so its size as it closes is what went
  // to disk: one fstat per file, and the writes stay untouched.
  #countOnClose(handle: FileHandle, kind: SpoolKind): void {
    const close = handle.close.bind(handle);
    handle.close = async () => {
      this.#spooled[kind] += await handle.stat().then(
        (stats) => stats.size,
        () => 0,
      );
      await close();
    };
  }

  /** Takes `bytes` of the budget; false when they are not left. */
  reserve(bytes: number): boolean {
    if (bytes > this.#left) return false;
    this.#left -= bytes;
    return true;
  }

  /** Whether any of the budget is left. */
  hasRoom(): boolean {
    return this.#left > 0;
  }

  /** Gives back bytes taken, once their file is closed. */
  release(bytes: number): void {
    this.#left += bytes;
  }
}

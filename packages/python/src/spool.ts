// The worker's spool: unlinked temporary files in spool_dir for bodies on their way (uploads a
// WSGI app gets whole, responses a client reads slower than the app writes), and the budget of
// bytes they may hold there together. Unlinked as soon as they are open, so nobody else can
// open them and a crash leaves nothing behind. Runs in the worker.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** The budget is spent: an upload cannot wait on disk now. */
export class SpoolFull extends Error {
  constructor() {
    super('the spool budget is spent');
  }
}

let count = 0;

export class Spool {
  readonly dir: string;
  #left: number;

  constructor(dir: string, budgetBytes: number) {
    this.dir = dir;
    this.#left = budgetBytes;
  }

  async open(kind: 'request' | 'response'): Promise<FileHandle> {
    const path = join(this.dir, `bicorn-${kind}-${String(process.pid)}-${String(++count)}`);
    const handle = await open(path, 'wx+', 0o600);
    await unlink(path);
    return handle;
  }

  /** Takes `bytes` of the budget; false when they are not left. */
  reserve(bytes: number): boolean {
    if (bytes > this.#left) return false;
    this.#left -= bytes;
    return true;
  }

  /** Gives back bytes taken, once their file is closed. */
  release(bytes: number): void {
    this.#left += bytes;
  }
}

// Temporary files for bodies on their way through a worker: unlinked as soon as they are
// open, so nobody else can open them and a crash leaves nothing behind; and the count of the
// bytes they held, which the worker logs when its Python process stops. Runs in the worker.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SpoolKind = 'request' | 'response';

let count = 0;
const spooled: Record<SpoolKind, number> = { request: 0, response: 0 };

export async function openSpoolFile(kind: SpoolKind): Promise<FileHandle> {
  const path = join(tmpdir(), `bicorn-${kind}-${String(process.pid)}-${String(++count)}`);
  const handle = await open(path, 'wx+', 0o600);
  await unlink(path);
  countOnClose(handle, kind);
  return handle;
}

/** The bytes this process has written to spool files so far, by kind, counted as each file closes. */
export function spooledBytes(): Record<SpoolKind, number> {
  return { ...spooled };
}

// A spool file is written from offset 0 without gaps, so its size as it closes is what went to
// disk: one fstat per file, and the writes stay untouched.
function countOnClose(handle: FileHandle, kind: SpoolKind): void {
  const close = handle.close.bind(handle);
  handle.close = async () => {
    spooled[kind] += await handle.stat().then(
      (stats) => stats.size,
      () => 0,
    );
    await close();
  };
}

// Temporary files for bodies on their way through a worker: unlinked as soon as they are
// open, so nobody else can open them and a crash leaves nothing behind. Runs in the worker.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let count = 0;

export async function openSpoolFile(kind: 'request' | 'response'): Promise<FileHandle> {
  const path = join(tmpdir(), `bicorn-${kind}-${String(process.pid)}-${String(++count)}`);
  const handle = await open(path, 'wx+', 0o600);
  await unlink(path);
  return handle;
}

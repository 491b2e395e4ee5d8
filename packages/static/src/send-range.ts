// Sending a byte range of an open file at the client's pace: two buffers take turns, one read
// from the file while the socket takes the other, so disk and socket overlap and no buffer is
// allocated per chunk. Runs in the worker, per large static response.
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/**
 * Bytes per read, in each of the two buffers: so the most one response holds is 512 KiB, however
 * slow its client. With 64 KiB reads, as fs streams make them, a large file went out at half the rate.
 */
export const CHUNK_BYTES = 256 * 1024;

/** Rejects when the file is shorter than the range (truncated while sent): the caller cuts the response. */
export async function sendRange(handle: FileHandle, res: ServerResponse, start: number, end: number): Promise<void> {
  const buffers = [Buffer.allocUnsafeSlow(CHUNK_BYTES), Buffer.allocUnsafeSlow(CHUNK_BYTES)] as const;
  // A buffer is free again once the socket has taken what it held (its write's callback).
  const free: [Promise<void>, Promise<void>] = [Promise.resolve(), Promise.resolve()];
  let position = start;
  for (let turn: 0 | 1 = 0; position <= end; turn = turn === 0 ? 1 : 0) {
    await free[turn];
    if (res.destroyed) return;
    const buffer = buffers[turn];
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, end + 1 - position), position);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${String(position)} of ${String(end + 1)}: shortened while it was sent`);
    position += bytesRead;
    free[turn] = written(res, buffer.subarray(0, bytesRead));
  }
  res.end();
}

/** Writes `chunk`; resolves once the socket has taken it, or the response has closed. */
function written(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('close', done);
      resolve();
    };
    res.on('close', done);
    res.write(chunk, done);
  });
}

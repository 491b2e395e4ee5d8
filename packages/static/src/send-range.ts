// Sending a byte range of an open file at the client's pace: one chunk read, written, and the
// next read only once the socket has taken it. Runs in the worker, per large static response.
import { waitForDrain } from '@bicorn/gateway';
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/**
 * Bytes per read, and so the most one response holds (256 KiB per slow client): with 64 KiB
 * reads, as fs streams make them, a large file went out at half the rate.
 */
export const CHUNK_BYTES = 256 * 1024;

/** Rejects when the file is shorter than the range (truncated while sent): the caller cuts the response. */
export async function sendRange(handle: FileHandle, res: ServerResponse, start: number, end: number): Promise<void> {
  let position = start;
  while (position <= end) {
    if (res.destroyed) return;
    const length = Math.min(CHUNK_BYTES, end + 1 - position);
    const chunk = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(chunk, 0, length, position);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${String(position)} of ${String(end + 1)}: shortened while it was sent`);
    position += bytesRead;
    if (!res.write(bytesRead === length ? chunk : chunk.subarray(0, bytesRead))) await waitForDrain(res);
  }
  res.end();
}

import { EventEmitter } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { CHUNK_BYTES, sendRange } from './send-range.js';

/** A response whose socket takes one write when told: until then the bytes are only referenced. */
/** A file of these bytes for the test, removed after it. */
function tempFile(name: string, bytes: Buffer): string {
  const file = join(tmpdir(), `bicorn-${name}-${String(process.pid)}`);
  writeFileSync(file, bytes);
  onTestFinished(() => {
    rmSync(file, { force: true });
  });
  return file;
}

class SlowResponse extends EventEmitter {
  destroyed = false;
  ended = false;
  readonly #pending: { chunk: Buffer; taken: () => void }[] = [];
  readonly #received: Buffer[] = [];

  write(chunk: Buffer, taken: () => void): boolean {
    this.#pending.push({ chunk, taken });
    return false;
  }

  end(): void {
    this.ended = true;
  }

  get waiting(): number {
    return this.#pending.length;
  }

  /** The socket takes the oldest write: its bytes are copied only now, as they stand. */
  takeOne(): void {
    const next = this.#pending.shift();
    if (next === undefined) throw new Error('nothing to take');
    this.#received.push(Buffer.from(next.chunk));
    next.taken();
  }

  get received(): Buffer {
    return Buffer.concat(this.#received);
  }
}

describe('sendRange', () => {
  it('sends the range in order, never refilling a buffer the socket has not taken, with at most two waiting', async () => {
    const bytes = Buffer.from(Array.from({ length: 3 * CHUNK_BYTES + 1000 }, (_, i) => (i * 7) % 251));
    const handle = await open(tempFile('send-range', bytes), 'r');
    const res = new SlowResponse();
    const sent = sendRange(handle, res as unknown as ServerResponse, 500, bytes.length - 1);
    let most = 0;
    // end() follows the last write at once; what the socket holds still goes out after it.
    while (!res.ended || res.waiting > 0) {
      await vi.waitFor(() => expect(res.waiting > 0 || res.ended).toBe(true));
      most = Math.max(most, res.waiting);
      if (res.waiting > 0) res.takeOne();
    }
    await sent;
    await handle.close();
    expect(most).toBe(2);
    expect(res.received.equals(bytes.subarray(500))).toBe(true);
  });

  it('stops when the response closes while the socket holds its writes', async () => {
    const handle = await open(tempFile('send-range-closed', Buffer.alloc(4 * CHUNK_BYTES, 1)), 'r');
    const res = new SlowResponse();
    const sent = sendRange(handle, res as unknown as ServerResponse, 0, 4 * CHUNK_BYTES - 1);
    await vi.waitFor(() => expect(res.waiting).toBe(2));
    res.destroyed = true;
    res.emit('close');
    await sent;
    await handle.close();
    expect(res.ended).toBe(false);
    expect(res.waiting).toBe(2);
  });
});

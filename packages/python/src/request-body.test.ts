import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RequestBody } from './request-body.js';
import { Spool, SpoolFull } from './spool.js';

/** A request whose body comes in the given chunks, as node's socket reads give them. */
function requestOf(chunks: Buffer[], declared?: number): IncomingMessage {
  return Object.assign(Readable.from(chunks), { headers: declared === undefined ? {} : { 'content-length': String(declared) } }) as unknown as IncomingMessage;
}

/** Bytes 0, 1, … 250, 0, 1, …: a misplaced piece shows. */
function patterned(size: number, from: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (from + i) % 251));
}

async function readAll(body: RequestBody, piece: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let next = await body.read(piece); next !== null; next = await body.read(piece)) pieces.push(next);
  return Buffer.concat(pieces);
}

const MiB = 1 << 20;

/** A body of `size` bytes in chunks of 64 KiB, as node's socket reads give them. */
function chunked(size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < size; at += 65_536) chunks.push(patterned(Math.min(65_536, size - at), at));
  return chunks;
}

describe('a request body received whole', () => {
  it('keeps a body that fits upload_memory in memory, reads large chunks back as views of what node gave and gathers small ones, and gives the memory back', async () => {
    const small = [patterned(1000, 0), patterned(2000, 1000)];
    const large = patterned(65_536, 3000);
    const spool = new Spool(tmpdir(), 1 << 30, 3000 + 65_536);
    const body = await RequestBody.receive(requestOf([...small, large]), spool);
    expect(spool.memory.left).toBe(0);
    expect((await body.read(700))?.equals(patterned(700, 0))).toBe(true);
    // The rest of the small chunks, gathered; the large one stays apart.
    expect((await body.read(100_000))?.equals(patterned(2300, 700))).toBe(true);
    const view = await body.read(100_000);
    expect([view?.buffer === large.buffer, view?.byteOffset === large.byteOffset, view?.length]).toEqual([true, true, 65_536]);
    expect(await body.read(100_000)).toBeNull();
    expect(spool.spooledBytes().request).toBe(0);
    await body.destroy();
    expect(spool.memory.left).toBe(3000 + 65_536);
  });

  it('takes memory for a declared length at once: a second body that does not fit beside it goes to disk', async () => {
    const spool = new Spool(tmpdir(), 1 << 30, 3 * MiB);
    const first = await RequestBody.receive(requestOf(chunked(2 * MiB), 2 * MiB), spool);
    const second = await RequestBody.receive(requestOf(chunked(2 * MiB), 2 * MiB), spool);
    expect([spool.memory.left, spool.spooledBytes().request]).toEqual([MiB, 2 * MiB]);
    expect((await readAll(second, 256 * 1024)).equals(patterned(2 * MiB, 0))).toBe(true);
    await Promise.all([first.destroy(), second.destroy()]);
    expect([spool.memory.left, spool.left]).toEqual([3 * MiB, 1 << 30]);
  });

  it('spills a chunked body to the spool once it outgrows upload_memory, in whole and in order, and gives both budgets back', async () => {
    const spool = new Spool(tmpdir(), 1 << 30, MiB);
    const size = 3 * MiB + 12_345;
    const body = await RequestBody.receive(requestOf(chunked(size)), spool);
    expect([spool.spooledBytes().request, spool.memory.left]).toEqual([size, MiB]);
    expect((await readAll(body, 256 * 1024)).equals(patterned(size, 0))).toBe(true);
    await body.destroy();
    expect(spool.left).toBe(1 << 30);
  });

  it('puts a body larger than onDiskPast in the file at once while the disk budget has room, though upload_memory has room too', async () => {
    const spool = new Spool(tmpdir(), 5 * MiB, 8 * MiB);
    const declared = await RequestBody.receive(requestOf(chunked(2 * MiB), 2 * MiB), spool, MiB);
    const sized = await RequestBody.receive(requestOf(chunked(2 * MiB)), spool, MiB);
    const small = await RequestBody.receive(requestOf(chunked(MiB), MiB), spool, MiB);
    expect([spool.spooledBytes().request, spool.memory.left, spool.left]).toEqual([4 * MiB, 7 * MiB, MiB]);
    expect([declared.sharedPath, sized.sharedPath, small.sharedPath].map((path) => path !== undefined)).toEqual([true, true, false]);
    // No room left on disk for another: it waits in memory instead of being refused.
    const inMemory = await RequestBody.receive(requestOf(chunked(2 * MiB), 2 * MiB), spool, MiB);
    expect([spool.spooledBytes().request, spool.memory.left]).toEqual([4 * MiB, 5 * MiB]);
    expect((await readAll(sized, 256 * 1024)).equals(patterned(2 * MiB, 0))).toBe(true);
    await Promise.all([declared, sized, small, inMemory].map((body) => body.destroy()));
    expect([spool.memory.left, spool.left]).toEqual([8 * MiB, 5 * MiB]);
  });

  it('is refused with SpoolFull when it fits neither in memory nor on disk', async () => {
    const spool = new Spool(tmpdir(), MiB, MiB);
    await expect(RequestBody.receive(requestOf(chunked(2 * MiB), 2 * MiB), spool)).rejects.toBeInstanceOf(SpoolFull);
    await expect(RequestBody.receive(requestOf(chunked(2 * MiB)), spool)).rejects.toBeInstanceOf(SpoolFull);
    expect([spool.memory.left, spool.left]).toEqual([MiB, MiB]);
  });
});

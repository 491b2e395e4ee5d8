import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MEMORY_LIMIT, RequestBody } from './request-body.js';
import { Spool } from './spool.js';

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

describe('a request body received whole', () => {
  it('keeps a body up to MEMORY_LIMIT in memory', async () => {
    const spool = new Spool(tmpdir(), 1 << 30);
    const body = await RequestBody.receive(requestOf([patterned(1000, 0), patterned(2000, 1000)]), spool);
    expect((await readAll(body, 700)).equals(patterned(3000, 0))).toBe(true);
    expect(spool.spooledBytes().request).toBe(0);
    await body.destroy();
  });

  it('spills a larger body to the spool in whole, in order, and gives its budget back', async () => {
    const spool = new Spool(tmpdir(), 1 << 30);
    const size = 3 * MEMORY_LIMIT + 12_345;
    const chunks: Buffer[] = [];
    for (let at = 0; at < size; at += 65_536) chunks.push(patterned(Math.min(65_536, size - at), at));
    const body = await RequestBody.receive(requestOf(chunks, size), spool);
    expect(spool.spooledBytes().request).toBe(size);
    expect((await readAll(body, 256 * 1024)).equals(patterned(size, 0))).toBe(true);
    await body.destroy();
    expect(spool.left).toBe(1 << 30);
  });
});

import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

describe('the spool', () => {
  it('counts the bytes written to its files as they are written, by kind, and reads them back', async () => {
    const spool = new Spool(tmpdir(), 1 << 20, 0);
    const response = await spool.open('response');
    await response.write(Buffer.alloc(3000, 1), 0, 3000, 0);
    await response.write(Buffer.alloc(500, 2), 0, 500, 3000);
    // Counted before the file closes: a response cut while its file is open is not missed.
    expect(spool.spooledBytes()).toEqual({ request: 0, response: 3500 });
    const back = Buffer.alloc(4);
    expect((await response.read(back, 0, 4, 2998)).bytesRead).toBe(4);
    expect([...back]).toEqual([1, 1, 2, 2]);
    await response.close();
    const request = await spool.open('request');
    await request.write(Buffer.alloc(42), 0, 42, 0);
    await request.close();
    expect(spool.spooledBytes()).toEqual({ request: 42, response: 3500 });
  });
});

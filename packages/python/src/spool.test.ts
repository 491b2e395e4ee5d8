import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

describe('the spool', () => {
  it('counts the bytes each of its files held once it closes, by kind', async () => {
    const spool = new Spool(tmpdir(), 1 << 20);
    const response = await spool.open('response');
    await response.write(Buffer.alloc(3000), 0, 3000, 0);
    await response.write(Buffer.alloc(500), 0, 500, 3000);
    expect(spool.spooledBytes()).toEqual({ request: 0, response: 0 });
    await response.close();
    const request = await spool.open('request');
    await request.write(Buffer.alloc(42), 0, 42, 0);
    await request.close();
    expect(spool.spooledBytes()).toEqual({ request: 42, response: 3500 });
  });
});

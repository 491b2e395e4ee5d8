import { describe, expect, it } from 'vitest';
import { openSpoolFile, spooledBytes } from './spool-file.js';

describe('openSpoolFile', () => {
  it('counts the bytes each spool file held once it closes, by kind', async () => {
    const before = spooledBytes();
    const response = await openSpoolFile('response');
    await response.write(Buffer.alloc(3000), 0, 3000, 0);
    await response.write(Buffer.alloc(500), 0, 500, 3000);
    expect(spooledBytes()).toEqual(before);
    await response.close();
    const request = await openSpoolFile('request');
    await request.write(Buffer.alloc(42), 0, 42, 0);
    await request.close();
    expect(spooledBytes()).toEqual({ request: before.request + 42, response: before.response + 3500 });
  });
});

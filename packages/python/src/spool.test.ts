import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Budget, Spool } from './spool.js';

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

  it('resizes its disk budget with what is held still counted, below nothing until it is given back', () => {
    const spool = new Spool(tmpdir(), 1000, 0);
    expect(spool.reserve(600)).toBe(true);
    spool.resizeDisk(500);
    expect(spool.left).toBe(-100);
    expect(spool.hasRoom()).toBe(false);
    spool.release(600);
    expect(spool.left).toBe(500);
    spool.resizeDisk(2000);
    expect(spool.reserve(2000)).toBe(true);
    expect(spool.reserve(1)).toBe(false);
  });

  it('gives bytes given back to those that wait for them, in order, and says no to one whose wait ran out', async () => {
    const budget = new Budget(100);
    expect(budget.reserve(80)).toBe(true);
    const first = budget.reserveWithin(50, 10_000);
    const second = budget.reserveWithin(40, 10_000);
    // More than the whole budget can never be taken: no wait.
    expect(await budget.reserveWithin(101, 10_000)).toBe(false);
    budget.release(30);
    expect(await first).toBe(true);
    expect(budget.left).toBe(0);
    budget.release(80);
    expect(await second).toBe(true);
    expect(budget.left).toBe(40);
    // Nothing comes back in time: the wait ends with no, and takes nothing.
    expect(await budget.reserveWithin(60, 20)).toBe(false);
    expect(budget.left).toBe(40);
  });
});

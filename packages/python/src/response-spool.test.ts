import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { ResponseSpool } from './response-spool.js';
import { Spool } from './spool.js';

/** A response whose socket takes bytes only when the test says so. */
class FakeResponse extends EventEmitter {
  readonly received: string[] = [];
  accepting = true;
  ended = false;
  destroyed = false;
  write(chunk: Buffer): boolean {
    this.received.push(chunk.toString());
    return this.accepting;
  }
  end(chunk?: Buffer): void {
    if (chunk !== undefined && chunk.length > 0) this.received.push(chunk.toString());
    this.ended = true;
    this.emit('ended');
  }
  destroy(): void {
    this.destroyed = true;
  }
}

describe('ResponseSpool', () => {
  it('keeps the order of the bytes when the socket drains while some wait on disk', async () => {
    const res = new FakeResponse();
    const credited: number[] = [];
    const spool = new ResponseSpool(res as unknown as ServerResponse, (bytes) => credited.push(bytes), new Spool(tmpdir(), 1 << 20));
    const ended = new Promise((resolve) => res.once('ended', resolve));
    spool.write(Buffer.from('a'), false);
    res.accepting = false;
    spool.write(Buffer.from('b'), false); // the socket pushes back
    spool.write(Buffer.from('c'), false); // waits on disk
    res.accepting = true;
    res.emit('drain'); // before the disk write of "c" has happened
    spool.write(Buffer.from('d'), false); // must not overtake "c"
    spool.write(Buffer.from('e'), true);
    await ended;
    expect(res.received.join('')).toBe('abcde');
    expect(credited.reduce((sum, n) => sum + n, 0)).toBe(5);
    await spool.destroy();
  });

  it('keeps bytes past the spool budget in memory, crediting them only once the socket takes them, and gives the budget back', async () => {
    const res = new FakeResponse();
    const credited: number[] = [];
    const budget = new Spool(tmpdir(), 2);
    const spool = new ResponseSpool(res as unknown as ServerResponse, (bytes) => credited.push(bytes), budget);
    const ended = new Promise((resolve) => res.once('ended', resolve));
    res.accepting = false;
    spool.write(Buffer.from('a'), false); // the socket pushes back
    spool.write(Buffer.from('bc'), false); // on disk: the budget's 2 bytes
    spool.write(Buffer.from('de'), false); // in memory
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(credited).toEqual([2]);
    expect(budget.reserve(1)).toBe(false);
    res.accepting = true;
    res.emit('drain');
    spool.write(Buffer.from('f'), true);
    await ended;
    expect(res.received.join('')).toBe('abcdef');
    expect(credited.reduce((sum, n) => sum + n, 0)).toBe(6);
    await spool.destroy();
    expect(budget.reserve(2)).toBe(true);
  });
});

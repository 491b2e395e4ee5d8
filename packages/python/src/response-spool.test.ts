import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ResponseSpool } from './response-spool.js';

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
    const spool = new ResponseSpool(res as unknown as ServerResponse, (bytes) => credited.push(bytes));
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
});

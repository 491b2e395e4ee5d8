import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ResponseSpool, STALL_MS } from './response-spool.js';
import { Spool } from './spool.js';

/** A socket that counts its corks. */
class FakeSocket {
  corked = 0;
  cork(): void {
    this.corked += 1;
  }
  uncork(): void {
    this.corked -= 1;
  }
}

/** A response whose socket takes bytes only when the test says so. */
class FakeResponse extends EventEmitter {
  socket: FakeSocket | null = new FakeSocket();
  readonly received: string[] = [];
  accepting = true;
  destroyed = false;
  writableEnded = false;
  readonly #untaken: (() => void)[] = [];
  write(chunk: Buffer, taken?: () => void): boolean {
    this.received.push(chunk.toString());
    if (taken !== undefined) this.#untaken.push(taken);
    if (this.accepting) this.#take();
    return this.accepting;
  }
  end(chunk?: Buffer): void {
    this.writableEnded = true;
    if (chunk !== undefined && chunk.length > 0) this.received.push(chunk.toString());
    this.emit('ended');
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** The client reads the oldest piece written that it has not read. */
  takeOne(): void {
    this.#untaken.shift()?.();
  }
  /** The client reads everything written so far, and goes on reading. */
  drain(): void {
    this.accepting = true;
    this.#take();
    this.emit('drain');
  }
  #take(): void {
    for (const taken of this.#untaken.splice(0)) taken();
  }
}

function setup(window: number, budgetBytes = 1 << 20) {
  const res = new FakeResponse();
  const credited: number[] = [];
  const budget = new Spool(tmpdir(), budgetBytes, 0);
  const spool = new ResponseSpool(res as unknown as ServerResponse, (bytes) => credited.push(bytes), budget, window);
  const ended = new Promise((resolve) => res.once('ended', resolve));
  const creditedBytes = () => credited.reduce((total, n) => total + n, 0);
  return { res, credited, creditedBytes, budget, spool, ended, text: () => res.received.join('') };
}

describe('ResponseSpool', () => {
  it('corks the socket for the rest of the turn, so that the pieces written in it leave in one write', async () => {
    const { res, spool } = setup(1 << 20);
    const socket = res.socket!;
    spool.write(Buffer.from('a'), false);
    spool.write(Buffer.from('b'), false);
    expect(socket.corked).toBe(1);
    await nextTurn();
    expect(socket.corked).toBe(0);
    spool.write(Buffer.from('c'), false);
    // The response lets go of its socket (it ended) before the turn is over: the same socket is uncorked.
    res.socket = null;
    await nextTurn();
    expect(socket.corked).toBe(0);
    expect(res.received).toEqual(['a', 'b', 'c']);
  });

  it('sends straight to the socket and credits what it takes, touching no file, while the client keeps up', async () => {
    const { res, credited, budget, spool, ended, text } = setup(4);
    spool.write(Buffer.from('a'), false);
    expect(credited).toEqual([1]);
    res.accepting = false;
    spool.write(Buffer.from('bc'), false); // the socket pushes back: held, not credited
    spool.write(Buffer.from('d'), false); // the whole window waits now, but only for a moment
    expect(text()).toBe('abcd');
    expect(credited).toEqual([1]);
    res.drain();
    expect(credited).toEqual([1, 2, 1]);
    spool.write(Buffer.from('e'), true);
    await ended;
    expect(text()).toBe('abcde');
    await spool.destroy();
    expect(budget.spooledBytes()).toEqual({ request: 0, response: 0 });
  });

  it('credits a quarter window at a time, holding back less than that', () => {
    const { credited, spool } = setup(16);
    for (const letter of 'abcdefghij') spool.write(Buffer.from(letter), false);
    expect(credited).toEqual([4, 4]);
  });

  it('counts taken bytes whose credit it holds back as out: a client that then stops reading still frees the app', async () => {
    const { res, credited, spool } = setup(16);
    spool.write(Buffer.from('abc'), false); // taken, its credit held back
    res.accepting = false;
    spool.write(Buffer.alloc(13, 'x'), false); // with those, the app's whole window is out
    expect(credited).toEqual([]);
    await vi.waitFor(() => expect(credited).toEqual([16]));
  });

  it('lends the app its window once all of it waited for the client, keeps what comes next on disk, and goes straight to the socket again once the client took it', async () => {
    const { res, credited, creditedBytes, budget, spool, ended, text } = setup(2);
    res.accepting = false;
    spool.write(Buffer.from('a'), false);
    spool.write(Buffer.from('b'), false); // the whole window waits: lent back after a while
    expect(credited).toEqual([]);
    await vi.waitFor(() => expect(credited).toEqual([2]));
    spool.write(Buffer.from('cd'), false); // on disk, credited once written
    await vi.waitFor(() => expect(creditedBytes()).toBe(4));
    expect(text()).toBe('ab');
    res.drain();
    await vi.waitFor(() => expect(text()).toBe('abcd'));
    // Caught up: the file is closed, its budget given back, and the next bytes go straight out.
    await vi.waitFor(() => expect(budget.left).toBe(1 << 20));
    expect(budget.spooledBytes().response).toBe(2);
    spool.write(Buffer.from('e'), false);
    expect(text()).toBe('abcde');
    spool.write(Buffer.from('f'), true);
    await ended;
    expect(text()).toBe('abcdef');
    // The lent bytes credit nothing when the socket takes them; the last frame needs no credit.
    expect(creditedBytes()).toBe(5);
    await spool.destroy();
    expect(budget.spooledBytes()).toEqual({ request: 0, response: 2 });
  });

  it('lends the window too when the client takes less than a window while it waits: a slow reader', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { res, credited, budget, spool } = setup(4);
    res.accepting = false;
    spool.write(Buffer.from('ab'), false);
    spool.write(Buffer.from('cd'), false); // the whole window waits
    vi.advanceTimersByTime(STALL_MS / 2);
    res.takeOne(); // the client reads a little
    expect(credited).toEqual([2]);
    spool.write(Buffer.from('ef'), false); // and the window is full again
    vi.advanceTimersByTime(STALL_MS / 2);
    expect(credited).toEqual([2, 4]); // less than a window in STALL_MS: lent
    spool.write(Buffer.from('gh'), false); // on disk
    await vi.waitFor(() => expect(credited).toEqual([2, 4, 2]));
    res.drain();
    await vi.waitFor(() => expect(res.received.join('')).toBe('abcdefgh'));
    expect(budget.spooledBytes().response).toBe(2);
    await spool.destroy();
  });

  it('watches again, lending nothing, when the client took a window while the window was full', () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { res, credited, spool } = setup(2);
    res.accepting = false;
    spool.write(Buffer.from('ab'), false);
    res.takeOne();
    spool.write(Buffer.from('cd'), false); // the window is full again, and the client took one
    vi.advanceTimersByTime(STALL_MS);
    expect(credited).toEqual([2]); // it kept up: watched again
    vi.advanceTimersByTime(STALL_MS); // then took nothing
    expect(credited).toEqual([2, 2]);
  });

  it('keeps the order of the bytes when the socket drains while some wait on disk', async () => {
    const { res, creditedBytes, spool, ended, text } = setup(1);
    spool.write(Buffer.from('a'), false);
    res.accepting = false;
    spool.write(Buffer.from('b'), false); // the socket pushes back, and the window is full
    await vi.waitFor(() => expect(creditedBytes()).toBe(2));
    spool.write(Buffer.from('c'), false); // waits on disk
    res.drain(); // before the disk write of "c" has happened
    spool.write(Buffer.from('d'), false); // must not overtake "c"
    spool.write(Buffer.from('e'), true);
    await ended;
    expect(text()).toBe('abcde');
    expect(creditedBytes()).toBe(4);
    await spool.destroy();
  });

  it('keeps bytes past the spool budget in memory, crediting them only once the socket takes them, and gives the budget back', async () => {
    const { res, creditedBytes, budget, spool, ended, text } = setup(1, 2);
    res.accepting = false;
    spool.write(Buffer.from('a'), false); // the socket pushes back, and the window is full: lent
    await vi.waitFor(() => expect(creditedBytes()).toBe(1));
    spool.write(Buffer.from('bc'), false); // on disk: the budget's 2 bytes
    spool.write(Buffer.from('de'), false); // in memory
    await vi.waitFor(() => expect(creditedBytes()).toBe(3));
    expect(budget.reserve(1)).toBe(false);
    res.drain();
    spool.write(Buffer.from('f'), true);
    await ended;
    expect(text()).toBe('abcdef');
    expect(creditedBytes()).toBe(5);
    await spool.destroy();
    expect(budget.reserve(2)).toBe(true);
  });

  it('past the spool budget lends nothing: the window waits for the client in memory', async () => {
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { res, credited, spool, text } = setup(2, 0);
    res.accepting = false;
    spool.write(Buffer.from('ab'), false);
    vi.advanceTimersByTime(STALL_MS * 2);
    expect(credited).toEqual([]);
    res.drain();
    expect(credited).toEqual([2]);
    spool.write(Buffer.from('c'), false);
    expect(text()).toBe('abc');
    await spool.destroy();
  });
});

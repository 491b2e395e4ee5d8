import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Dispatcher, type ConnectionTarget } from './dispatch.js';

class FakeTarget implements ConnectionTarget {
  readonly got: Socket[] = [];
  gone = false;
  constructor(readonly id: number) {}
  sendConnection(_listener: number, socket: Socket, done: (error: Error | null) => void): void {
    if (this.gone) {
      done(new Error('gone'));
      return;
    }
    this.got.push(socket);
    done(null);
  }
}

const socket = (): Socket => ({ destroyed: false, destroy: vi.fn() }) as unknown as Socket;
const free = { free: true, waiting: 0, progressing: true };
/** A saturated app; `progressing`: it has finished a request since it became so. */
const saturated = (waiting = 0, progressing = false) => ({ free: false, waiting, progressing });

function setup(count: number) {
  const dispatcher = new Dispatcher();
  const targets = Array.from({ length: count }, (_, i) => new FakeTarget(i + 1));
  for (const target of targets) dispatcher.addReady(target);
  const counts = () => targets.map((t) => t.got.length);
  return { dispatcher, targets, counts };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('dispatcher', () => {
  it('hands connections round robin to workers that acknowledged their last one', () => {
    const { dispatcher, targets, counts } = setup(2);
    for (let i = 0; i < 4; i++) {
      dispatcher.dispatch(0, socket());
      for (const { id } of targets) dispatcher.update(id, free, true);
    }
    expect(counts()).toEqual([2, 2]);
  });

  it('spreads a burst over workers whose apps are free, each taking up to 8 before it acknowledges', () => {
    const { dispatcher, counts } = setup(2);
    for (let i = 0; i < 20; i++) dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([8, 8]);
    // Each acknowledgement makes room for one more.
    dispatcher.update(1, free, true);
    expect(counts()).toEqual([9, 8]);
    dispatcher.update(2, free, true);
    dispatcher.update(2, free, true);
    expect(counts()).toEqual([9, 10]);
  });

  it('gives a worker whose app is saturated no second connection before it acknowledged the first: it waits for one that did', () => {
    const { dispatcher, counts } = setup(2);
    dispatcher.dispatch(0, socket());
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([1, 1]);
    dispatcher.update(1, saturated(), false);
    dispatcher.update(2, saturated(), false);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([1, 1]);
    dispatcher.update(1, free, true);
    expect(counts()).toEqual([2, 1]);
  });

  it('hands a sole worker each connection at once, acknowledged or not, until an acknowledgement is overdue', () => {
    const { dispatcher, counts } = setup(1);
    dispatcher.dispatch(0, socket());
    dispatcher.update(1, saturated(3), false);
    vi.advanceTimersByTime(150);
    dispatcher.dispatch(0, socket());
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([3]);
    // 200 ms after the first connection it has not acknowledged, its event loop may be blocked.
    vi.advanceTimersByTime(50);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([3]);
    dispatcher.update(1, saturated(3), true);
    expect(counts()).toEqual([4]);
  });

  it('passes over a worker whose app is saturated while another can start a request now', () => {
    const { dispatcher, counts } = setup(2);
    dispatcher.update(1, saturated(), false);
    for (let i = 0; i < 3; i++) {
      dispatcher.dispatch(0, socket());
      dispatcher.update(2, free, true);
    }
    expect(counts()).toEqual([0, 3]);
  });

  it('when every app is saturated, gives the connection to the one that had a free slot most recently', () => {
    const { dispatcher, counts } = setup(3);
    dispatcher.update(1, saturated(0), false);
    vi.advanceTimersByTime(5_000);
    dispatcher.update(2, saturated(4), false);
    vi.advanceTimersByTime(10);
    dispatcher.update(3, saturated(9), false);
    vi.advanceTimersByTime(10);
    dispatcher.update(3, saturated(8), false);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([0, 0, 1]);
  });

  it('when every app is saturated, gives the connection to one working through its queue before a stalled one, the fewest waiting first', () => {
    const { dispatcher, counts } = setup(3);
    dispatcher.update(2, saturated(5, true), false);
    dispatcher.update(3, saturated(2, true), false);
    vi.advanceTimersByTime(10);
    // Worker 1 had a free slot most recently and nothing waits there, but it is stalled.
    dispatcher.update(1, saturated(0), false);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([0, 0, 1]);
    // A steady load spreads over the ones that progress, as their acknowledgements say.
    dispatcher.update(3, saturated(6, true), true);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([0, 1, 1]);
    dispatcher.update(2, saturated(7, true), true);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([0, 1, 2]);
  });

  it('waits for a due acknowledgement rather than give the connection to a saturated app, but not for long', () => {
    const { dispatcher, counts } = setup(2);
    dispatcher.update(1, saturated(0), false);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([0, 1]);
    dispatcher.update(2, saturated(0), false);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([0, 1]);
    dispatcher.update(2, free, true);
    expect(counts()).toEqual([0, 2]);
    dispatcher.update(2, saturated(0), false);
    dispatcher.dispatch(0, socket());
    vi.advanceTimersByTime(199);
    expect(counts()).toEqual([0, 2]);
    vi.advanceTimersByTime(1);
    expect(counts()).toEqual([1, 2]);
  });

  it('hands a worker nothing once an acknowledgement is overdue, free as its app last was, until it acknowledges', () => {
    const { dispatcher, counts } = setup(2);
    dispatcher.update(1, saturated(0), false);
    dispatcher.dispatch(0, socket());
    vi.advanceTimersByTime(200);
    dispatcher.dispatch(0, socket());
    // Worker 2's event loop may be blocked; worker 1, saturated, gets it rather than wait.
    expect(counts()).toEqual([1, 1]);
    dispatcher.update(1, saturated(0), true);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([2, 1]);
    dispatcher.update(2, free, true);
    dispatcher.dispatch(0, socket());
    expect(counts()).toEqual([2, 2]);
  });

  it('gives a connection whose worker went away to another one', () => {
    const { dispatcher, targets, counts } = setup(2);
    targets[0]!.gone = true;
    targets[1]!.gone = true;
    dispatcher.dispatch(0, socket());
    expect(dispatcher.readyCount).toBe(0);
    const late = new FakeTarget(3);
    dispatcher.addReady(late);
    expect(counts()).toEqual([0, 0]);
    expect(late.got).toHaveLength(1);
  });

  it('reports what it knows of each worker', () => {
    const { dispatcher } = setup(2);
    dispatcher.dispatch(0, socket());
    dispatcher.update(1, saturated(3), false);
    expect(dispatcher.loads().get(1)).toMatchObject({ free: false, waiting: 3 });
    expect([...dispatcher.loads().values()].map((l) => l.acknowledged).sort()).toEqual([false, true]);
  });
});

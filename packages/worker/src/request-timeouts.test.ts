import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestTimeouts } from './request-timeouts.js';

/** A request whose connection has moved `bytes`, and its response. */
function exchange(): { req: IncomingMessage; res: ServerResponse; socket: { bytesRead: number; bytesWritten: number } } {
  const socket = { bytesRead: 0, bytesWritten: 0 };
  return { req: { socket } as unknown as IncomingMessage, res: {} as unknown as ServerResponse, socket };
}

const moved = (req: IncomingMessage): number => req.socket.bytesRead + req.socket.bytesWritten;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RequestTimeouts', () => {
  it('hands over a request on whose connection nothing moved for the timeout, within a quarter more', () => {
    const stalled: ServerResponse[] = [];
    const timeouts = new RequestTimeouts<IncomingMessage, ServerResponse>(1000, moved, (_req, res) => stalled.push(res));
    const { req, res } = exchange();
    timeouts.watch(1, req, res);
    vi.advanceTimersByTime(999);
    expect(stalled).toEqual([]);
    vi.advanceTimersByTime(251);
    expect(stalled).toEqual([res]);
    vi.advanceTimersByTime(5000);
    expect(stalled).toEqual([res]);
  });

  it('leaves alone a request whose bytes keep moving, and one that completed', () => {
    const stalled: ServerResponse[] = [];
    const timeouts = new RequestTimeouts<IncomingMessage, ServerResponse>(1000, moved, (_req, res) => stalled.push(res));
    const moving = exchange();
    const done = exchange();
    timeouts.watch(1, moving.req, moving.res);
    timeouts.watch(2, done.req, done.res);
    timeouts.unwatch(2);
    for (let i = 0; i < 20; i++) {
      moving.socket.bytesRead += 10;
      vi.advanceTimersByTime(300);
    }
    expect(stalled).toEqual([]);
    vi.advanceTimersByTime(1500);
    expect(stalled).toEqual([moving.res]);
  });

  it('keeps no timer while no request is under way', () => {
    const timeouts = new RequestTimeouts(1000, moved, () => undefined);
    const { req, res } = exchange();
    timeouts.watch(1, req, res);
    timeouts.unwatch(1);
    vi.advanceTimersByTime(250);
    expect(vi.getTimerCount()).toBe(0);
  });
});

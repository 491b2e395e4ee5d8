import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StartGate } from './start-gate.js';

/** A gate for which requests to /crash are suspects. */
function gate(slots: number, timeoutMs = 1_000) {
  const onChange = vi.fn();
  return { gate: new StartGate({ slots, timeoutMs, onChange, isSuspect: (key) => key === 'GET /crash' }), onChange };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the start gate', () => {
  it('starts as many requests as the app has threads, then makes the next wait in order', async () => {
    const { gate: g } = gate(2);
    expect(await g.take('GET /', () => true)).toBe(true);
    expect(g.free).toBe(true);
    expect(await g.take('GET /', () => true)).toBe(true);
    expect(g.free).toBe(false);
    const order: string[] = [];
    const third = g.take('GET /', () => true).then((started) => order.push(`third ${String(started)}`));
    const fourth = g.take('GET /', () => true).then((started) => order.push(`fourth ${String(started)}`));
    expect(g.waiting).toBe(2);
    g.release();
    g.release();
    await Promise.all([third, fourth]);
    expect(order).toEqual(['third true', 'fourth true']);
  });

  it('gives up on a waiting request at the queue timeout, and skips one whose client left', async () => {
    const { gate: g } = gate(1);
    await g.take('GET /', () => true);
    const late = g.take('GET /', () => true);
    let clientThere = true;
    const gone = g.take('GET /', () => clientThere);
    vi.advanceTimersByTime(999);
    clientThere = false;
    vi.advanceTimersByTime(1);
    expect(await late).toBe(false);
    expect(await gone).toBe(false);
    expect(g.waiting).toBe(0);
  });

  it('starts nothing while the app does not answer in time, and the waiting ones once it does', async () => {
    const { gate: g, onChange } = gate(Infinity);
    g.setResponsive(false);
    expect(g.free).toBe(false);
    const waiting = g.take('GET /', () => true);
    expect(g.waiting).toBe(1);
    onChange.mockClear();
    g.setResponsive(true);
    expect(await waiting).toBe(true);
    expect(g.free).toBe(true);
    expect(onChange).toHaveBeenCalled();
  });

  it('keeps the waiting requests for the next process when the app dies, and refuses them when none comes', async () => {
    const { gate: g } = gate(1, 0);
    await g.take('GET /', () => true);
    g.suspend();
    const first = g.take('GET /', () => true);
    expect(g.free).toBe(false);
    g.resume(0);
    expect(await first).toBe(true);
    g.suspend();
    const second = g.take('GET /', () => true);
    g.refuseWaiting();
    expect(await second).toBe(false);
  });

  it('lets a request start at once behind a suspect held back, and the suspect once the probation is over', async () => {
    const { gate: g } = gate(1, 0);
    g.suspend();
    g.resume(500);
    let suspectStarted = false;
    const suspect = g.take('GET /crash', () => true).then(() => (suspectStarted = true));
    expect(g.free).toBe(true);
    expect(await g.take('GET /', () => true)).toBe(true);
    g.release();
    vi.advanceTimersByTime(500);
    await suspect;
    expect(suspectStarted).toBe(true);
  });

  it('lets a suspect in only when no other request waits, and once the new process has served as long as it booted', async () => {
    const { gate: g } = gate(1, 0);
    await g.take('GET /', () => true);
    g.suspend();
    const order: string[] = [];
    const suspect = g.take('GET /crash', () => true).then(() => order.push('suspect'));
    const innocent = g.take('GET /', () => true).then(() => order.push('innocent'));
    g.resume(500);
    await innocent;
    g.release();
    await Promise.resolve();
    expect(order).toEqual(['innocent']);
    vi.advanceTimersByTime(500);
    await suspect;
    expect(order).toEqual(['innocent', 'suspect']);
  });

  it('runs a suspect alone: not beside requests in flight, and none beside it, even for an app without a thread limit', async () => {
    const { gate: g } = gate(Infinity, 0);
    expect(await g.take('GET /', () => true)).toBe(true);
    const order: string[] = [];
    const suspect = g.take('GET /crash', () => true).then(() => order.push('suspect'));
    await Promise.resolve();
    expect(order).toEqual([]);
    g.release();
    await suspect;
    expect(g.free).toBe(false);
    const after = g.take('GET /', () => true).then(() => order.push('after'));
    await Promise.resolve();
    expect(order).toEqual(['suspect']);
    g.release();
    await after;
    expect(order).toEqual(['suspect', 'after']);
  });
});

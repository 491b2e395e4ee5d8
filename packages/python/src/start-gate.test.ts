import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StartGate } from './start-gate.js';

function gate(slots: number, timeoutMs = 1_000) {
  const onChange = vi.fn();
  return { gate: new StartGate({ slots, timeoutMs, onChange }), onChange };
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
    expect(await g.take(() => true)).toBe(true);
    expect(g.free).toBe(true);
    expect(await g.take(() => true)).toBe(true);
    expect(g.free).toBe(false);
    const order: string[] = [];
    const third = g.take(() => true).then((started) => order.push(`third ${String(started)}`));
    const fourth = g.take(() => true).then((started) => order.push(`fourth ${String(started)}`));
    expect(g.waiting).toBe(2);
    g.release();
    g.release();
    await Promise.all([third, fourth]);
    expect(order).toEqual(['third true', 'fourth true']);
  });

  it('gives up on a waiting request at the queue timeout, and skips one whose client left', async () => {
    const { gate: g } = gate(1);
    await g.take(() => true);
    const late = g.take(() => true);
    let clientThere = true;
    const gone = g.take(() => clientThere);
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
    const waiting = g.take(() => true);
    expect(g.waiting).toBe(1);
    onChange.mockClear();
    g.setResponsive(true);
    expect(await waiting).toBe(true);
    expect(g.free).toBe(true);
    expect(onChange).toHaveBeenCalled();
  });
});

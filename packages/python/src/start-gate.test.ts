import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StartGate } from './start-gate.js';

/** A gate for which requests to /crash are suspects. */
function gate(slots: number, timeoutMs = 1_000, ahead = 0) {
  const onChange = vi.fn();
  return { gate: new StartGate({ slots, ahead, timeoutMs, onChange, isSuspect: (key) => key === 'GET /crash' }), onChange };
}

const WITH_BODY = { bodiless: false };
const BODILESS = { bodiless: true };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the start gate', () => {
  it('starts as many requests as the app has threads, then makes the next wait in order', async () => {
    const { gate: g } = gate(2);
    expect(await g.take('GET /', () => true, WITH_BODY)).toBe(true);
    expect(g.free).toBe(true);
    expect(await g.take('GET /', () => true, WITH_BODY)).toBe(true);
    expect(g.free).toBe(false);
    const order: string[] = [];
    const third = g.take('GET /', () => true, WITH_BODY).then((started) => order.push(`third ${String(started)}`));
    const fourth = g.take('GET /', () => true, WITH_BODY).then((started) => order.push(`fourth ${String(started)}`));
    expect(g.waiting).toBe(2);
    g.release();
    g.release();
    await Promise.all([third, fourth]);
    expect(order).toEqual(['third true', 'fourth true']);
  });

  it('gives up on a waiting request at the queue timeout, and skips one whose client left', async () => {
    const { gate: g } = gate(1);
    await g.take('GET /', () => true, WITH_BODY);
    const late = g.take('GET /', () => true, WITH_BODY);
    let clientThere = true;
    const gone = g.take('GET /', () => clientThere, WITH_BODY);
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
    const waiting = g.take('GET /', () => true, WITH_BODY);
    expect(g.waiting).toBe(1);
    onChange.mockClear();
    g.setResponsive(true);
    expect(await waiting).toBe(true);
    expect(g.free).toBe(true);
    expect(onChange).toHaveBeenCalled();
  });

  it('keeps the waiting requests for the next process when the app dies, and refuses them when none comes', async () => {
    const { gate: g } = gate(1, 0);
    await g.take('GET /', () => true, WITH_BODY);
    g.suspend();
    const first = g.take('GET /', () => true, WITH_BODY);
    expect(g.free).toBe(false);
    g.resume(0);
    expect(await first).toBe(true);
    g.suspend();
    const second = g.take('GET /', () => true, WITH_BODY);
    g.refuseWaiting();
    expect(await second).toBe(false);
  });

  it('lets a request start at once behind a suspect held back, and the suspect once the probation is over', async () => {
    const { gate: g } = gate(1, 0);
    g.suspend();
    g.resume(500);
    let suspectStarted = false;
    const suspect = g.take('GET /crash', () => true, WITH_BODY).then(() => (suspectStarted = true));
    expect(g.free).toBe(true);
    expect(await g.take('GET /', () => true, WITH_BODY)).toBe(true);
    g.release();
    vi.advanceTimersByTime(500);
    await suspect;
    expect(suspectStarted).toBe(true);
  });

  it('lets a suspect in only when no other request waits, and once the new process has served as long as it booted', async () => {
    const { gate: g } = gate(1, 0);
    await g.take('GET /', () => true, WITH_BODY);
    g.suspend();
    const order: string[] = [];
    const suspect = g.take('GET /crash', () => true, WITH_BODY).then(() => order.push('suspect'));
    const innocent = g.take('GET /', () => true, WITH_BODY).then(() => order.push('innocent'));
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
    expect(await g.take('GET /', () => true, WITH_BODY)).toBe(true);
    const order: string[] = [];
    const suspect = g.take('GET /crash', () => true, WITH_BODY).then(() => order.push('suspect'));
    await Promise.resolve();
    expect(order).toEqual([]);
    g.release();
    await suspect;
    expect(g.free).toBe(false);
    const after = g.take('GET /', () => true, WITH_BODY).then(() => order.push('after'));
    await Promise.resolve();
    expect(order).toEqual(['suspect']);
    g.release();
    await after;
    expect(order).toEqual(['suspect', 'after']);
  });
  it('sends requests without a body ahead of a free thread, up to `ahead` of them, in order', async () => {
    const { gate: g } = gate(1, 1_000, 2);
    expect(await g.take('GET /', () => true, BODILESS)).toBe(true);
    expect(g.free).toBe(false);
    expect(await g.take('GET /', () => true, BODILESS)).toBe(true);
    expect(await g.take('GET /', () => true, BODILESS)).toBe(true);
    // Two wait in the app's process for its one thread; the next waits here.
    expect(g.waiting).toBe(2);
    const order: string[] = [];
    const upload = g.take('POST /', () => true, WITH_BODY).then(() => order.push('upload'));
    const after = g.take('GET /', () => true, BODILESS).then(() => order.push('after'));
    expect(g.waiting).toBe(4);
    // A request with a body waits for a free thread, and holds back those behind it.
    g.release();
    await Promise.resolve();
    expect(order).toEqual([]);
    g.release();
    g.release();
    await Promise.all([upload, after]);
    expect(order).toEqual(['upload', 'after']);
  });

  it('puts a request that a dead process never started first in line for the next one', async () => {
    const { gate: g } = gate(1, 1_000, 4);
    await g.take('GET /a', () => true, BODILESS);
    g.suspend();
    const order: string[] = [];
    const waiting = g.take('GET /later', () => true, BODILESS).then(() => order.push('later'));
    const again = g.take('GET /b', () => true, { bodiless: true, again: true }).then(() => order.push('again'));
    g.resume(0);
    await Promise.all([waiting, again]);
    expect(order).toEqual(['again', 'later']);
  });

  it('lets a request take a place at once, without a promise, only when take() would have let it in at once', async () => {
    const { gate: g, onChange } = gate(1, 1_000, 1);
    expect(g.tryTake('GET /', false)).toBe(true);
    expect(onChange).toHaveBeenCalled();
    // No thread is free: a request with a body waits, one without goes ahead, then none.
    expect(g.tryTake('GET /', false)).toBe(false);
    expect(g.tryTake('GET /', true)).toBe(true);
    expect(g.tryTake('GET /', true)).toBe(false);
    g.release();
    g.release();
    // A suspect, an app that does not answer, or anyone waiting before it: take() decides.
    expect(g.tryTake('GET /crash', false)).toBe(false);
    g.setResponsive(false);
    expect(g.tryTake('GET /', false)).toBe(false);
    g.setResponsive(true);
    expect(g.tryTake('GET /', false)).toBe(true);
    const next = g.take('GET /', () => true, WITH_BODY);
    expect(g.waiting).toBe(1);
    expect(g.tryTake('GET /', true)).toBe(false);
    g.release();
    expect(await next).toBe(true);
    // Every request let go of counts as served: what tells the master the app progresses.
    expect(g.served).toBe(3);
  });
});

import type { AppLoad, WorkerMessage } from '@bicorn/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoadReporter, SATURATION_GRACE_MS } from './load-reporter.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  let load: AppLoad = { free: true, waiting: 0, served: 0, blocked: false };
  const sent: WorkerMessage[] = [];
  const reporter = new LoadReporter(
    () => load,
    (message) => sent.push(message),
  );
  const set = async (next: Partial<AppLoad>) => {
    load = { ...load, ...next };
    reporter.changed();
    await turn();
  };
  return { reporter, sent, set };
}

describe('the load reporter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tells the master when the app has been saturated for the grace, when it then finishes a request, and when it is free again', async () => {
    const { sent, set } = setup();
    await set({ waiting: 0 });
    expect(sent).toEqual([]);
    await set({ free: false, waiting: 3 });
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(SATURATION_GRACE_MS);
    expect(sent).toEqual([{ type: 'load', free: false, waiting: 3, progressing: false }]);
    // Still saturated, nothing finished: nothing new to say.
    await set({ waiting: 4 });
    expect(sent).toHaveLength(1);
    await set({ served: 1, waiting: 3 });
    expect(sent.at(-1)).toEqual({ type: 'load', free: false, waiting: 3, progressing: true });
    await set({ served: 2, waiting: 2 });
    expect(sent).toHaveLength(2);
    await set({ free: true, waiting: 0, served: 5 });
    expect(sent.at(-1)).toEqual({ type: 'load', free: true, waiting: 0, progressing: true });
    // Saturated again: told after the grace, and progress counts from there.
    await set({ free: false, waiting: 1 });
    expect(sent).toHaveLength(3);
    vi.advanceTimersByTime(SATURATION_GRACE_MS);
    expect(sent.at(-1)).toEqual({ type: 'load', free: false, waiting: 1, progressing: false });
  });

  it('counts the requests an app finishes during the grace: one working through a queue is told as progressing at once', async () => {
    const { sent, set } = setup();
    await set({ free: false, waiting: 3 });
    await set({ served: 1, waiting: 2 });
    vi.advanceTimersByTime(SATURATION_GRACE_MS);
    expect(sent).toEqual([{ type: 'load', free: false, waiting: 2, progressing: true }]);
    await set({ served: 2, waiting: 1 });
    expect(sent).toHaveLength(1);
    await set({ free: true, waiting: 0, served: 4 });
    expect(sent.at(-1)).toEqual({ type: 'load', free: true, waiting: 0, progressing: true });
    // What it finished while free does not count for the next saturation.
    await set({ free: false, waiting: 1 });
    vi.advanceTimersByTime(SATURATION_GRACE_MS);
    expect(sent.at(-1)).toEqual({ type: 'load', free: false, waiting: 1, progressing: false });
  });

  it('never tells a saturation that ends within the grace, however often it comes', async () => {
    const { sent, set } = setup();
    for (let served = 1; served <= 50; served++) {
      await set({ free: false, waiting: 0 });
      vi.advanceTimersByTime(SATURATION_GRACE_MS - 1);
      await set({ free: true, served });
    }
    vi.advanceTimersByTime(SATURATION_GRACE_MS * 2);
    expect(sent).toEqual([]);
  });

  it('tells at once of an app that can start nothing at all (its process down, its reader not answering), during a grace too', async () => {
    const { sent, set } = setup();
    await set({ free: false, blocked: true, waiting: 1 });
    expect(sent).toEqual([{ type: 'load', free: false, waiting: 1, progressing: false }]);
    await set({ free: true, blocked: false, waiting: 0, served: 1 });
    // Busy threads first, then the reader stops answering: told without waiting out the grace.
    await set({ free: false, waiting: 0 });
    expect(sent).toHaveLength(2);
    await set({ blocked: true, waiting: 3 });
    expect(sent.at(-1)).toEqual({ type: 'load', free: false, waiting: 3, progressing: false });
  });

  it('acknowledges a connection with the load of the moment, saturated or not, at most one report per turn otherwise', async () => {
    const { reporter, sent, set } = setup();
    reporter.accepted();
    expect(sent).toEqual([{ type: 'accepted', free: true, waiting: 0, progressing: true }]);
    await set({ free: false, waiting: 2 });
    reporter.accepted();
    expect(sent.at(-1)).toEqual({ type: 'accepted', free: false, waiting: 2, progressing: false });
    reporter.changed();
    reporter.changed();
    await set({ free: true, waiting: 0 });
    expect(sent.filter((m) => m.type === 'load')).toEqual([{ type: 'load', free: true, waiting: 0, progressing: true }]);
    // The grace timer of the saturation before the acknowledgement tells nothing more.
    vi.advanceTimersByTime(SATURATION_GRACE_MS);
    expect(sent).toHaveLength(3);
  });
});

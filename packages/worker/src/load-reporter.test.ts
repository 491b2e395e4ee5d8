import type { AppLoad, WorkerMessage } from '@bicorn/protocol';
import { describe, expect, it } from 'vitest';
import { LoadReporter } from './load-reporter.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  let load: AppLoad = { free: true, waiting: 0, served: 0 };
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
  it('tells the master when the app becomes saturated, when it then finishes a request, and when it is free again', async () => {
    const { sent, set } = setup();
    await set({ waiting: 0 });
    expect(sent).toEqual([]);
    await set({ free: false, waiting: 3 });
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
    // Saturated again: progress counts from here.
    await set({ free: false, waiting: 1 });
    expect(sent.at(-1)).toEqual({ type: 'load', free: false, waiting: 1, progressing: false });
  });

  it('acknowledges a connection with the load of the moment, at most one report per turn otherwise', async () => {
    const { reporter, sent, set } = setup();
    reporter.accepted();
    expect(sent).toEqual([{ type: 'accepted', free: true, waiting: 0, progressing: true }]);
    reporter.changed();
    reporter.changed();
    await set({ free: false });
    expect(sent.filter((m) => m.type === 'load')).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { planReconcile, type Action, type DesiredState } from './reconcile-plan.js';
import type { WorkerEntry, WorkerState } from './worker-table.js';

let nextId = 1;
function worker(generation: number, state: WorkerState): WorkerEntry {
  const id = nextId++;
  return { handle: { id, pid: 1000 + id, send: () => undefined, kill: () => undefined, sendConnection: () => undefined }, generation, startedFor: { kind: 'start' }, state, forkedAt: 0, readyAt: undefined, lastPong: 0, stopTimer: undefined, appPid: undefined, appDeaths: 0, workers: 2 };
}
const ready: WorkerState = { kind: 'ready' };
const booting: WorkerState = { kind: 'booting' };
const desired = (over: Partial<DesiredState> = {}): DesiredState => ({ generation: 1, target: 2, next: undefined, held: 0, stop: undefined, ...over });
const summary = (actions: Action[]) => actions.map((a) => (a.kind === 'fork' ? `fork ${String(a.generation)}` : a.kind === 'switch' ? 'switch' : `${a.kind} ${String(a.entry.handle.id)} (${a.reason}${a.kind === 'stop' ? `, ${a.mode}` : ''})`));

describe('the reconcile plan', () => {
  it('forks what the serving generation lacks, less the slots held empty', () => {
    expect(summary(planReconcile(desired({ target: 3, held: 1 }), [worker(1, ready)]))).toEqual(['fork 1']);
  });

  it('stops the youngest beyond the target, a booting one first', () => {
    const [a, b, c] = [worker(1, ready), worker(1, booting), worker(1, ready)];
    expect(summary(planReconcile(desired({ target: 1 }), [a, b, c]))).toEqual([`terminate ${String(b.handle.id)} (scaled down)`, `stop ${String(c.handle.id)} (scaled down, graceful)`]);
  });

  it('keeps a recycled worker until a replacement is ready in its place', () => {
    const old = worker(1, { kind: 'retiring', reason: 'max-requests' });
    const other = worker(1, ready);
    const replacement = worker(1, booting);
    expect(summary(planReconcile(desired(), [old, other, replacement]))).toEqual([]);
    replacement.state = ready;
    expect(summary(planReconcile(desired(), [old, other, replacement]))).toEqual([`stop ${String(old.handle.id)} (recycled (max-requests), graceful)`]);
  });

  it("forks a reload's generation beside the serving one, and switches once all of it is ready", () => {
    const serving = [worker(1, ready), worker(1, ready)];
    expect(summary(planReconcile(desired({ next: 2 }), serving))).toEqual(['fork 2', 'fork 2']);
    const next = [worker(2, ready), worker(2, booting)];
    expect(summary(planReconcile(desired({ next: 2 }), [...serving, ...next]))).toEqual([]);
    next[1]!.state = ready;
    expect(summary(planReconcile(desired({ next: 2 }), [...serving, ...next]))).toEqual(['switch']);
    expect(summary(planReconcile(desired({ generation: 2 }), [...serving, ...next]))).toEqual(serving.map((w) => `stop ${String(w.handle.id)} (reload, graceful)`));
  });

  it('on a stop, drains the serving workers, ends the booting ones, and hurries a graceful stop that turned fast', () => {
    const [a, b, c, d] = [worker(1, ready), worker(1, booting), worker(1, { kind: 'stopping', reason: 'reload', mode: 'graceful' }), worker(1, { kind: 'hung' })];
    expect(summary(planReconcile(desired({ stop: 'graceful' }), [a, b, c, d]))).toEqual([`stop ${String(a.handle.id)} (shutdown, graceful)`, `terminate ${String(b.handle.id)} (shutdown)`]);
    expect(summary(planReconcile(desired({ stop: 'fast' }), [a, c]))).toEqual([`stop ${String(a.handle.id)} (shutdown, fast)`, `stop ${String(c.handle.id)} (reload, fast)`]);
  });
});

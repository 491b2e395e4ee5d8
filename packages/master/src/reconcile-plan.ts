// The reconcile step as a pure decision: from the desired state (how many workers, of which
// generation, or none once stopping) and the worker table, what to fork and what to stop. The
// arbiter's handlers only change the desired state; its one #reconcile() runs this plan after
// every command, as gunicorn's loop ends each turn with murder_workers(); manage_workers().
// Runs in the master.
import type { StopMode } from '@bicorn/protocol';
import { isActive, isServing, type WorkerEntry } from './worker-table.js';

export interface DesiredState {
  /** The generation that serves, and how many workers it should have. */
  readonly generation: number;
  readonly target: number;
  /** A reload's generation, once its config is loaded: forked beside the serving one. */
  readonly next: number | undefined;
  /** Slots of the serving generation left empty for now (a back-off, or pacing after a crash). */
  readonly held: number;
  /** Set once the server stops: every worker goes. */
  readonly stop: StopMode | undefined;
}

export type Action =
  | { readonly kind: 'fork'; readonly generation: number }
  /** A worker that serves drains (graceful) or closes everything (fast). */
  | { readonly kind: 'stop'; readonly entry: WorkerEntry; readonly reason: string; readonly mode: StopMode }
  /** A worker that is not serving yet has nothing to drain: SIGTERM. */
  | { readonly kind: 'terminate'; readonly entry: WorkerEntry; readonly reason: string }
  /** Every worker of the next generation is ready: it serves from now on. */
  | { readonly kind: 'switch' };

/** `entries` oldest first. */
export function planReconcile(desired: DesiredState, entries: readonly WorkerEntry[]): Action[] {
  if (desired.stop !== undefined) return planStop(desired.stop, entries);
  const { generation, target, next } = desired;
  const actions: Action[] = [];
  const current = entries.filter((e) => e.generation === generation && isActive(e));
  if (next === undefined) {
    for (let i = current.length + desired.held; i < target; i++) actions.push({ kind: 'fork', generation });
  } else {
    const forked = entries.filter((e) => e.generation === next && isActive(e));
    for (let i = forked.length; i < target; i++) actions.push({ kind: 'fork', generation: next });
    if (forked.length >= target && forked.every((e) => e.state.kind === 'ready')) actions.push({ kind: 'switch' });
  }
  // Beyond the target (SIGTTOU), the youngest goes first: a booting one, else the last ready.
  const youngestFirst = [...current].reverse();
  const leaving = [...youngestFirst.filter((e) => e.state.kind !== 'ready'), ...youngestFirst.filter((e) => e.state.kind === 'ready')];
  for (const entry of leaving.slice(0, Math.max(0, current.length - target))) actions.push(stopOrTerminate(entry, 'scaled down'));
  // A recycled worker serves until a replacement is ready in its place, then goes.
  const ready = current.filter((e) => e.state.kind === 'ready').length;
  const retiring = entries.filter((e) => e.generation === generation && e.state.kind === 'retiring');
  for (const entry of retiring.slice(0, Math.max(0, retiring.length - Math.max(0, target - ready)))) {
    actions.push({ kind: 'stop', entry, reason: `recycled (${entry.state.kind === 'retiring' ? entry.state.reason : ''})`, mode: 'graceful' });
  }
  for (const entry of entries) {
    const superseded = entry.generation !== generation && entry.generation !== next;
    if (superseded && (isActive(entry) || isServing(entry))) actions.push(stopOrTerminate(entry, 'reload'));
  }
  return actions;
}

function planStop(mode: StopMode, entries: readonly WorkerEntry[]): Action[] {
  const actions: Action[] = [];
  for (const entry of entries) {
    const { state } = entry;
    if (state.kind === 'booting' || state.kind === 'boot-failed') actions.push({ kind: 'terminate', entry, reason: 'shutdown' });
    else if (state.kind === 'ready' || state.kind === 'retiring') actions.push({ kind: 'stop', entry, reason: 'shutdown', mode });
    else if (state.kind === 'stopping' && state.mode === 'graceful' && mode === 'fast') actions.push({ kind: 'stop', entry, reason: state.reason, mode });
  }
  return actions;
}

function stopOrTerminate(entry: WorkerEntry, reason: string): Action {
  return isServing(entry) ? { kind: 'stop', entry, reason, mode: 'graceful' } : { kind: 'terminate', entry, reason };
}

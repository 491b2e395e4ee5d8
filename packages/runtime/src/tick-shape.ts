// Keeps process.nextTick fast after a quiet spell. Node makes each tick's record with one object
// literal, and V8 keeps that literal's object shapes only while an object of them is alive: a
// full collection while nothing is queued (the collections V8 runs when a process goes idle, ten
// seconds or so after its last work) drops them, and from then on the optimized code of nextTick
// and of what inlines it (node:http's response end, stream writes and ends) builds each record in
// the runtime, migrating it from the dropped shape, for the rest of the process's life. Measured
// on Node 20 (scripts/bench/floor/tick_idle.mjs): 61-108 ns a nextTick before such a spell,
// 324-633 after; a worker relaying ASGI hello requests spent 4-8 µs more on each. One record
// held for good keeps the shape alive, and nextTick at its speed (71-157 ns after the same
// spell). Runs in the master and each worker.
import { createHook } from 'node:async_hooks';

let held: object | undefined;

/** Holds one nextTick record for the life of the process; once is enough, later calls do nothing. */
export function keepTickShape(): void {
  if (held !== undefined) return;
  // The one public way to reach a record: the init hook of async_hooks, on for this one call.
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject') held ??= resource;
    },
  });
  hook.enable();
  process.nextTick(keepNothing);
  hook.disable();
}

/** The record held (for tests), or undefined before keepTickShape or where Node has no such record. */
export function heldTickRecord(): object | undefined {
  return held;
}

function keepNothing(): void {
  // The tick only has to be made; its record is what is kept.
}

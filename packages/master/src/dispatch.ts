// Hands accepted connections to the ready workers of the serving generation. Runs in the master.
// A worker gets a connection only once it has acknowledged the last one (as node's round-robin
// handle keeps a free list), unless it is the only ready worker, and it acknowledges after reading
// the connection's first request, so that its load is known before the next one: by preference a
// worker whose app can start a request now gets it, round robin. While a worker's acknowledgement
// is due, the connection waits for it rather than go to a saturated app. When every app is
// saturated, one that has finished a request since it became so (it works through a queue) gets it
// before one stalled on what it runs, the one with the fewest requests waiting among those, so that
// a steady load spreads; among stalled ones, the one that had a free slot most recently, since it
// is making progress where the others may be stuck. (Connections that come at once, before any app
// has finished a request, still go to the one free last: it may be the only one not stuck.) A
// connection that arrives while no worker can take one waits in a bounded queue rather than being
// refused.
import type { Load } from '@bicorn/protocol';
import type { Socket } from 'node:net';

export interface ConnectionTarget {
  readonly id: number;
  /** Sends the socket to the worker; calls back with an error if it could not. */
  sendConnection(listener: number, socket: Socket, done: (error: Error | null) => void): void;
}

/** What the dispatcher knows of a ready worker. */
export interface WorkerLoad extends Load {
  /** It acknowledged the last connection handed to it. */
  readonly acknowledged: boolean;
  /** When its app last had a free slot (ms since the epoch); now while it has one. */
  readonly freeAt: number;
}

interface Entry {
  readonly target: ConnectionTarget;
  acknowledged: boolean;
  /** When it was handed the first connection it has not acknowledged since. */
  sentAt: number;
  free: boolean;
  waiting: number;
  progressing: boolean;
  freeAt: number;
}

const MAX_WAITING = 1024;
/**
 * How long an acknowledgement is awaited before a worker counts as too busy to give one (its
 * event loop blocked): it comes within 10 ms of the hand-over, or at the first request.
 */
const ACKNOWLEDGE_DUE_MS = 200;

export class Dispatcher {
  readonly #ready: Entry[] = [];
  readonly #waiting: { listener: number; socket: Socket }[] = [];
  #next = 0;
  /** Runs the queue again when an awaited acknowledgement is overdue. */
  #overdue: NodeJS.Timeout | undefined;

  addReady(target: ConnectionTarget): void {
    if (this.#find(target.id) !== undefined) return;
    this.#ready.push({ target, acknowledged: true, sentAt: 0, free: true, waiting: 0, progressing: true, freeAt: Date.now() });
    this.#dispatchWaiting();
  }

  remove(id: number): void {
    const index = this.#ready.findIndex((entry) => entry.target.id === id);
    if (index !== -1) this.#ready.splice(index, 1);
  }

  /** A worker's load changed; `accepted`: it also acknowledged its last connection. */
  update(id: number, load: Load, accepted: boolean): void {
    const entry = this.#find(id);
    if (entry === undefined) return;
    if (accepted) entry.acknowledged = true;
    if (load.free || entry.free) entry.freeAt = Date.now();
    entry.free = load.free;
    entry.waiting = load.waiting;
    entry.progressing = load.progressing;
    this.#dispatchWaiting();
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  /** The load of every ready worker, by worker id. */
  loads(): Map<number, WorkerLoad> {
    return new Map(this.#ready.map(({ target, acknowledged, free, waiting, progressing, freeAt }) => [target.id, { acknowledged, free, waiting, progressing, freeAt: free ? Date.now() : freeAt }]));
  }

  dispatch(listener: number, socket: Socket): void {
    // Behind connections already waiting, a new one waits too.
    const entry = this.#waiting.length === 0 ? this.#choose() : undefined;
    if (entry !== undefined) this.#send(entry, listener, socket);
    else if (this.#waiting.length >= MAX_WAITING) socket.destroy();
    else this.#waiting.push({ listener, socket });
  }

  #send(entry: Entry, listener: number, socket: Socket): void {
    if (entry.acknowledged) entry.sentAt = Date.now();
    entry.acknowledged = false;
    const { target } = entry;
    target.sendConnection(listener, socket, (error) => {
      // The worker went away while the socket was in flight: give it to another one.
      if (error !== null && !socket.destroyed) {
        this.remove(target.id);
        this.dispatch(listener, socket);
      }
    });
  }

  /** Drops the connections still waiting for a worker; used when stopping. */
  dropWaiting(): void {
    clearTimeout(this.#overdue);
    for (const { socket } of this.#waiting.splice(0)) socket.destroy();
  }

  /**
   * The next acknowledged worker with a free app, round robin; else none while an
   * acknowledgement is due (but a sole worker's); else the best of the saturated ones
   * (betterSaturated).
   */
  #choose(): Entry | undefined {
    const count = this.#ready.length;
    const now = Date.now();
    let saturated: Entry | undefined;
    let dueAt = Infinity;
    for (let i = 1; i <= count; i++) {
      const index = (this.#next + i) % count;
      const entry = this.#ready[index];
      if (entry === undefined) continue;
      if (!entry.acknowledged) {
        const awaited = now - entry.sentAt < ACKNOWLEDGE_DUE_MS;
        // A sole worker has no other to be chosen over: waiting for its acknowledgement would
        // only hand over a burst of new connections one at a time, each a round trip behind.
        // Once it is overdue (its event loop may be blocked), connections wait here, within
        // MAX_WAITING, as they would for several workers.
        if (count === 1 && awaited) return entry;
        if (awaited) dueAt = Math.min(dueAt, entry.sentAt + ACKNOWLEDGE_DUE_MS);
        continue;
      }
      if (entry.free) {
        this.#next = index;
        return entry;
      }
      if (saturated === undefined || betterSaturated(entry, saturated)) saturated = entry;
    }
    if (dueAt === Infinity) return saturated;
    this.#armOverdue(dueAt - now);
    return undefined;
  }

  #armOverdue(ms: number): void {
    if (this.#overdue !== undefined) return;
    this.#overdue = setTimeout(() => {
      this.#overdue = undefined;
      this.#dispatchWaiting();
    }, ms);
    this.#overdue.unref();
  }

  #dispatchWaiting(): void {
    while (this.#waiting.length > 0) {
      const entry = this.#choose();
      if (entry === undefined) return;
      const waiting = this.#waiting.shift();
      if (waiting !== undefined && !waiting.socket.destroyed) this.#send(entry, waiting.listener, waiting.socket);
    }
  }

  #find(id: number): Entry | undefined {
    return this.#ready.find((entry) => entry.target.id === id);
  }
}

/** Whether saturated worker `a` should get a connection before `b`: see the top of this file. */
function betterSaturated(a: Entry, b: Entry): boolean {
  if (a.progressing !== b.progressing) return a.progressing;
  if (a.progressing && a.waiting !== b.waiting) return a.waiting < b.waiting;
  return a.freeAt > b.freeAt || (a.freeAt === b.freeAt && a.waiting < b.waiting);
}

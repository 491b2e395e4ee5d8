// Hands accepted connections to the ready workers of the serving generation. Runs in the master.
// A worker acknowledges each connection after reading its first request, so that its load is
// known before it gets the next one: by preference a worker whose app can start a request now
// gets it, round robin. A worker whose app was free when it last told the master may take a few
// connections ahead of its acknowledgements (the fewest outstanding first), so that a burst of new
// connections spreads over the workers at once rather than one round trip at a time for each
// worker; a sole worker takes them all. Otherwise a worker gets no connection before it has
// acknowledged the last one (as node's round-robin handle keeps a free list), and while an
// acknowledgement is due, the connection waits for it rather than go to a saturated app. When
// every app is saturated, one that has finished a request since it became so (it works through a
// queue) gets it before one stalled on what it runs, the one with the fewest requests waiting
// among those, so that a steady load spreads; among stalled ones, the one that had a free slot
// most recently, since it is making progress where the others may be stuck. (Connections that
// come at once, before any app has finished a request, still go to the one free last: it may be
// the only one not stuck.) A connection that arrives while no worker can take one waits in a
// bounded queue rather than being refused.
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
  /** Connections handed to it that it has not acknowledged yet. */
  unacknowledged: number;
  /** While some are: when its event loop last showed it runs (the first of them was sent, or it acknowledged one). */
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
/**
 * How many connections a worker whose app was free may hold unacknowledged. One at a time, 64
 * new connections at once at -w 2 under load got their last answer 71-125 ms after they
 * opened, and wrk's 5 s runs had a p99 of 5-60 ms; with 8, 53-73 ms, and 4-19 ms. A worker
 * whose event loop blocks just then takes at most these.
 */
const AHEAD = 8;

export class Dispatcher {
  readonly #ready: Entry[] = [];
  readonly #waiting: { listener: number; socket: Socket }[] = [];
  #next = 0;
  /** Runs the queue again when an awaited acknowledgement is overdue. */
  #overdue: NodeJS.Timeout | undefined;

  addReady(target: ConnectionTarget): void {
    if (this.#find(target.id) !== undefined) return;
    this.#ready.push({ target, unacknowledged: 0, sentAt: 0, free: true, waiting: 0, progressing: true, freeAt: Date.now() });
    this.#dispatchWaiting();
  }

  remove(id: number): void {
    const index = this.#ready.findIndex((entry) => entry.target.id === id);
    if (index !== -1) this.#ready.splice(index, 1);
  }

  /** A worker's load changed; `accepted`: it also acknowledged a connection. */
  update(id: number, load: Load, accepted: boolean): void {
    const entry = this.#find(id);
    if (entry === undefined) return;
    if (accepted && entry.unacknowledged > 0) {
      entry.unacknowledged -= 1;
      entry.sentAt = Date.now();
    }
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
    return new Map(this.#ready.map(({ target, unacknowledged, free, waiting, progressing, freeAt }) => [target.id, { acknowledged: unacknowledged === 0, free, waiting, progressing, freeAt: free ? Date.now() : freeAt }]));
  }

  dispatch(listener: number, socket: Socket): void {
    // Behind connections already waiting, a new one waits too.
    const entry = this.#waiting.length === 0 ? this.#choose() : undefined;
    if (entry !== undefined) this.#send(entry, listener, socket);
    else if (this.#waiting.length >= MAX_WAITING) socket.destroy();
    else this.#waiting.push({ listener, socket });
  }

  #send(entry: Entry, listener: number, socket: Socket): void {
    if (entry.unacknowledged === 0) entry.sentAt = Date.now();
    entry.unacknowledged += 1;
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
   * The next worker with a free app and nothing unacknowledged, round robin; else one with a
   * free app and fewer than AHEAD unacknowledged, the fewest first; else none while an
   * acknowledgement is due (but a sole worker's); else the best of the saturated ones
   * (betterSaturated).
   */
  #choose(): Entry | undefined {
    const count = this.#ready.length;
    const now = Date.now();
    let saturated: Entry | undefined;
    let ahead: Entry | undefined;
    let aheadIndex = 0;
    let dueAt = Infinity;
    for (let i = 1; i <= count; i++) {
      const index = (this.#next + i) % count;
      const entry = this.#ready[index];
      if (entry === undefined) continue;
      if (entry.unacknowledged > 0) {
        // Once overdue, its event loop may be blocked: it gets nothing until it acknowledges.
        if (now - entry.sentAt >= ACKNOWLEDGE_DUE_MS) continue;
        // A sole worker has no other to be chosen over: waiting for its acknowledgement would
        // only hand over a burst of new connections one at a time, each a round trip behind.
        // Once it is overdue, connections wait here, within MAX_WAITING, as for several workers.
        if (count === 1) return entry;
        dueAt = Math.min(dueAt, entry.sentAt + ACKNOWLEDGE_DUE_MS);
        if (entry.free && entry.unacknowledged < AHEAD && (ahead === undefined || entry.unacknowledged < ahead.unacknowledged)) {
          ahead = entry;
          aheadIndex = index;
        }
        continue;
      }
      if (entry.free) {
        this.#next = index;
        return entry;
      }
      if (saturated === undefined || betterSaturated(entry, saturated)) saturated = entry;
    }
    if (ahead !== undefined) {
      this.#next = aheadIndex;
      return ahead;
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

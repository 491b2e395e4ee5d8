// Hands accepted connections to ready workers, round robin. Runs in the master. A connection
// that arrives while no worker is ready waits in a bounded queue rather than being refused.
import type { Socket } from 'node:net';

export interface ConnectionTarget {
  readonly id: number;
  /** Sends the socket to the worker; calls back with an error if it could not. */
  sendConnection(listener: number, socket: Socket, done: (error: Error | null) => void): void;
}

const MAX_WAITING = 1024;

export class Dispatcher {
  readonly #ready: ConnectionTarget[] = [];
  readonly #waiting: { listener: number; socket: Socket }[] = [];
  #next = 0;

  addReady(target: ConnectionTarget): void {
    this.#ready.push(target);
    while (this.#waiting.length > 0 && this.#ready.length > 0) {
      const waiting = this.#waiting.shift();
      if (waiting !== undefined) this.dispatch(waiting.listener, waiting.socket);
    }
  }

  remove(id: number): void {
    const index = this.#ready.findIndex((target) => target.id === id);
    if (index !== -1) this.#ready.splice(index, 1);
  }

  get readyCount(): number {
    return this.#ready.length;
  }

  dispatch(listener: number, socket: Socket): void {
    if (this.#ready.length === 0) {
      if (this.#waiting.length >= MAX_WAITING) socket.destroy();
      else this.#waiting.push({ listener, socket });
      return;
    }
    this.#next = (this.#next + 1) % this.#ready.length;
    const target = this.#ready[this.#next];
    target?.sendConnection(listener, socket, (error) => {
      // The worker went away while the socket was in flight: give it to another one.
      if (error !== null && !socket.destroyed) {
        this.remove(target.id);
        this.dispatch(listener, socket);
      }
    });
  }

  /** Drops the connections still waiting for a worker; used when stopping. */
  dropWaiting(): void {
    for (const { socket } of this.#waiting.splice(0)) socket.destroy();
  }
}

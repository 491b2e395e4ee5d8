import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { handleFor } from './cluster-host.js';

/** A worker whose channel takes handles and calls back only when told to. */
class FakeWorker extends EventEmitter {
  readonly process = { pid: 4242 };
  readonly callbacks: ((error: Error | null) => void)[] = [];
  isConnected(): boolean {
    return true;
  }
  send(_message: unknown, _socket: Socket, _options: unknown, callback: (error: Error | null) => void): boolean {
    this.callbacks.push(callback);
    return true;
  }
}

function fakeSocket(): Socket & { destroyed: boolean } {
  const socket = { destroyed: false, destroy: () => { socket.destroyed = true; } };
  return socket as unknown as Socket & { destroyed: boolean };
}

describe('handleFor', () => {
  it('gives back the connections a worker never took when it exits, once each, and closes the master\'s copy of those it did', () => {
    const worker = new FakeWorker();
    const handle = handleFor(worker as unknown as Worker, 1);
    const outcomes: (string | null)[][] = [[], [], []];
    const sockets = [fakeSocket(), fakeSocket(), fakeSocket()];
    sockets.forEach((socket, index) => {
      handle.sendConnection(0, socket, (error) => outcomes[index]?.push(error === null ? null : error.message));
    });
    // The first reaches the worker; the other two wait in node's queue when it exits.
    worker.callbacks[0]?.(null);
    worker.emit('exit');
    expect(outcomes).toEqual([[null], ['worker went away before taking the connection'], ['worker went away before taking the connection']]);
    expect(sockets.map((socket) => socket.destroyed)).toEqual([true, false, false]);
    // A callback node makes late changes nothing: those connections went elsewhere.
    worker.callbacks[1]?.(null);
    worker.emit('disconnect');
    expect(outcomes.map((list) => list.length)).toEqual([1, 1, 1]);
    expect(sockets[1]?.destroyed).toBe(false);
  });
});

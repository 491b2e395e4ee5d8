// The bytes another process wrote to a client's socket while the worker lent it (a Python app's
// response body, frames/SPEC.md "Lending the client's socket"): node's bytesWritten never sees
// them, and the request timeout's progress and the access log's sizes must. Runs in the worker.
import type { Socket } from 'node:net';

const lent = new WeakMap<Socket, number>();

export function addLentBytes(socket: Socket, bytes: number): void {
  lent.set(socket, (lent.get(socket) ?? 0) + bytes);
}

/** The bytes written to `socket` by others over its life, as node counts its own in bytesWritten. */
export function lentBytes(socket: Socket): number {
  return lent.get(socket) ?? 0;
}

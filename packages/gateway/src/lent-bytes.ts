// The bytes another process moved on a client's socket while the worker lent it (a Python app's
// response body written, or its request body read: frames/SPEC.md "Lending the client's
// socket"): node's bytesWritten and bytesRead never see them, and the request timeout's progress
// and the access log's sizes must. Runs in the worker.
import type { Socket } from 'node:net';

const written = new WeakMap<Socket, number>();
const read = new WeakMap<Socket, number>();

export function addLentBytes(socket: Socket, bytes: number): void {
  written.set(socket, (written.get(socket) ?? 0) + bytes);
}

export function addLentReadBytes(socket: Socket, bytes: number): void {
  read.set(socket, (read.get(socket) ?? 0) + bytes);
}

/** The bytes written to `socket` by others over its life, as node counts its own in bytesWritten. */
export function lentBytes(socket: Socket): number {
  return written.get(socket) ?? 0;
}

/** The bytes read from `socket` by others over its life, as node counts its own in bytesRead. */
export function lentReadBytes(socket: Socket): number {
  return read.get(socket) ?? 0;
}

// A lingering close, as nginx's lingering_close: once the last response on a connection is
// written, send FIN and keep reading (node:http drops what it reads) until the client closes
// or LINGER_MS passes. Closing at once while the client still sends (an upload the worker
// refused with 413, a request behind a refused one) leaves unread bytes in the kernel, which
// then answers with a reset that can destroy the response before the client reads it.
// Runs in the worker.
import type { Socket } from 'node:net';

/** The longest a closing connection is read from before it is closed anyway. */
export const LINGER_MS = 5_000;

/**
 * Makes node:http's own close after a `Connection: close` response (it calls destroySoon,
 * or end where there is none) a lingering one on this socket. Needs `allowHalfOpen`, so that
 * the client's FIN does not end the socket before the response is out.
 */
export function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => {
    lingeringClose(socket);
  };
}

/** Ends the socket after what is queued and closes it when the client closes, or at LINGER_MS. */
export function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return;
  // Once both sides have ended the socket closes itself (autoDestroy), after the response.
  if (socket.writable) socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => {
    clearTimeout(timer);
  });
  // After an upgrade node:http no longer reads the socket: discard what comes.
  socket.resume();
}

// The slow-client generator: `count` connections that each send a request head and then
// trickle the body a few bytes at a time, never finishing within a run, so a server that ties
// a worker to a connection runs out of workers. A connection the server drops is opened again.
// In the harness process: the work is a few hundred small writes a second. Loopback only.
import { connect } from 'node:net';

/**
 * Starts the trickling clients against 127.0.0.1:`port`. Returns { open(), dropped(), stop() }:
 * how many are connected now, how many the server dropped so far, and a stop that closes all.
 */
export function startSlowClients({ port, path = '/upload', count = 200, bodyBytes = 1_000_000, bytesPerTick = 16, tickMs = 1000 }) {
  const sockets = new Set();
  let stopped = false;
  let dropped = 0;
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bodyBytes}\r\n\r\n`;
  const piece = Buffer.alloc(bytesPerTick, 'x');

  const open = () => {
    if (stopped) return;
    const socket = connect({ port, host: '127.0.0.1' });
    // Tracked from the start, so that stop() also ends a connection still being made.
    sockets.add(socket);
    let timer;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (stopped) return;
      socket.write(head);
      // Spread the ticks so the clients do not write in lockstep.
      timer = setTimeout(function tick() {
        if (stopped) return;
        socket.write(piece);
        timer = setTimeout(tick, tickMs);
      }, Math.random() * tickMs);
    });
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      sockets.delete(socket);
      if (stopped) return;
      dropped += 1;
      setTimeout(open, 100);
    });
  };
  for (let i = 0; i < count; i += 1) open();

  return {
    open: () => [...sockets].filter((socket) => !socket.connecting).length,
    dropped: () => dropped,
    stop: () => {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

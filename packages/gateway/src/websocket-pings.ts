// Keepalive pings for one open WebSocket: a ping every interval, and the connection terminated
// (the app then sees close 1006) when a pong does not come in time. Runs in the worker.
import type { WebSocket } from 'ws';
import { OPEN } from './websocket-types.js';
import type { GatewayLog } from './log.js';

export interface PingOptions {
  /** 0: no pings. */
  readonly intervalMs: number;
  /** 0: a ping never times out. */
  readonly timeoutMs: number;
  readonly log: GatewayLog;
  readonly path: string;
}

/** Starts pinging `ws`; the returned function stops it (call it when the connection closes). */
export function startPings(ws: WebSocket, options: PingOptions): () => void {
  const { intervalMs, timeoutMs } = options;
  if (intervalMs <= 0) return () => undefined;
  let pongTimer: NodeJS.Timeout | undefined;
  ws.on('pong', () => {
    clearTimeout(pongTimer);
    pongTimer = undefined;
  });
  const pingTimer = setInterval(() => {
    // One ping at a time: the next waits until this one is answered.
    if (pongTimer !== undefined || ws.readyState !== OPEN) return;
    ws.ping();
    if (timeoutMs <= 0) return;
    pongTimer = setTimeout(() => {
      options.log.debug({ path: options.path, pingTimeoutMs: timeoutMs }, 'WebSocket client did not answer a ping; closing');
      ws.terminate();
    }, timeoutMs);
  }, intervalMs);
  return () => {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
  };
}

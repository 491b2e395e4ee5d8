// HTTP answers to a WebSocket upgrade that is not accepted: the gateway's own plain responses
// (400, 403, 500, 503) and the app's denial response (`websocket.http.response`), both ending
// the connection. Runs in the worker.
import { ServerResponse, STATUS_CODES, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Writes a short text response and ends the connection; nothing if the socket is gone. */
export function writePlainResponse(socket: Duplex, status: number, extraHeaders = ''): void {
  if (socket.destroyed || !socket.writable) return;
  const reason = STATUS_CODES[status] ?? 'Unknown';
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${String(status)} ${reason}\r\n` +
      `content-type: text/plain; charset=utf-8\r\ncontent-length: ${String(Buffer.byteLength(body))}\r\n` +
      `${extraHeaders}connection: close\r\n\r\n${body}`,
  );
}

/**
 * The app's own response to an upgrade it refuses, written by node:http on the raw socket so
 * that framing and header checks are node's; the connection closes after it.
 */
export function denialResponse(req: IncomingMessage, socket: Duplex): ServerResponse {
  // node:http only ever upgrades net.Sockets (tls.TLSSocket included).
  if (!(socket instanceof Socket)) throw new TypeError('a WebSocket denial response needs the request\'s net.Socket');
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => {
    res.detachSocket(socket);
    socket.end();
  });
  return res;
}

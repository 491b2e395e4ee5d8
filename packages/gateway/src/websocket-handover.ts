// Handing an accepted WebSocket over to the process that runs its app, which then runs the
// connection on the client's socket itself (the Python host's: protocol's frames/SPEC.md, "A
// WebSocket on the client's socket"): which connections can be, node stopped reading one, and
// the 101 written without ws. Runs in the worker.
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// RFC 6455 1.3: what the client's key is hashed with to accept it.
const KEY_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
// node:crypto costs memory in every worker (test/loaded-modules.test.ts): loaded at the first
// 101 written here, as ws is by the first gateway.
const require = createRequire(import.meta.url);
/** A close frame with 1011 (the server failed), for a connection whose process died. */
export const CLOSE_1011 = Buffer.from([0x88, 0x02, 0x03, 0xf3]);

/**
 * The socket of an upgrade that can be handed over: plain TCP (the worker encrypts TLS), an
 * HTTP/1.1 handshake, and no per-message compression to agree on (`deflate` is whether the
 * worker offers it), which the taker does not do.
 */
export function handOverSocket(req: IncomingMessage, socket: Duplex, deflate: boolean): Socket | undefined {
  if (!(socket instanceof Socket) || (socket as Socket & { encrypted?: boolean }).encrypted === true || req.httpVersion !== '1.1') return undefined;
  const extensions = req.headers['sec-websocket-extensions'];
  if (deflate && extensions !== undefined && /permessage-deflate/i.test(extensions)) return undefined;
  return socket;
}

/**
 * Stops node reading an upgrade's socket (node:http leaves it reading into the socket's own
 * buffer), as node's own pause does for a socket with a buffer of its own; false, and nothing
 * changed, when bytes came past the handshake: a client waits for the 101 (RFC 6455 4.1), and
 * one that did not is left to ws, which takes them.
 */
export function stopReading(socket: Socket, head: Buffer): boolean {
  const handle = (socket as Socket & { _handle?: { reading?: boolean; readStop?: () => number } | null })._handle;
  if (head.length > 0 || socket.readableLength > 0 || socket.destroyed || typeof handle?.readStop !== 'function') return false;
  handle.reading = false;
  handle.readStop();
  return true;
}

/** The 101 accepting `req` with the app's subprotocol and extra headers (flat name, value pairs). */
export function acceptHead(req: IncomingMessage, subprotocol: string | null, headers: readonly string[]): string {
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key'] ?? ''}${KEY_GUID}`).digest('base64');
  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
  if (subprotocol !== null) head += `Sec-WebSocket-Protocol: ${subprotocol}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i] ?? ''}: ${headers[i + 1] ?? ''}\r\n`;
  return `${head}\r\n`;
}

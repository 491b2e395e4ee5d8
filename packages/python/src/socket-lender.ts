// Lends a client's socket to the Python process (frames/SPEC.md, "Lending the client's socket"),
// which writes large response bodies to it itself instead of sending them through the worker,
// or receives a large upload from it: the socket's descriptor, with the stream's id, goes over a
// socket pair of its own (fd 5 in the runner). Only plain HTTP/1.x connections are lent: the
// runner moves bytes as they are, so neither TLS nor HTTP/2 framing can be its to do. For an
// upload, node must stop reading the socket and later start its parser over past the body: that
// takes node:http's own fields of a connection, kept to this file. Runs in the worker.
import { openDescriptorSender } from '@bicorn/runtime';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface SocketLender {
  /** Sends `socket`'s descriptor for `stream`; false when it could not, and the worker keeps the socket. */
  lend(socket: Socket, stream: number): boolean;
}

/** A lender over `channel`, the worker's end of the runner's fd 5; undefined where descriptors cannot be sent. */
export async function socketLender(channel: Socket): Promise<SocketLender | undefined> {
  const channelFd = descriptorOf(channel);
  if (channelFd === undefined) return undefined;
  const sender = await openDescriptorSender(channelFd).catch(() => undefined);
  if (sender === undefined) return undefined;
  const payload = Buffer.alloc(4);
  return {
    lend(socket, stream) {
      const fd = descriptorOf(socket);
      if (fd === undefined || channel.destroyed) return false;
      payload.writeUInt32BE(stream, 0);
      return sender.send(fd, payload);
    },
  };
}

/** Whether a socket's descriptor can be lent: one node reads itself (not a TLS or HTTP/2 stream's). */
export function lendableSocket(socket: Socket): boolean {
  return descriptorOf(socket) !== undefined;
}

/** Whether the request's connection may be lent: plain HTTP/1.x (no TLS), with a body to send (not HEAD). */
export function lendableConnection(req: IncomingMessage): boolean {
  const socket = req.socket as Socket & { encrypted?: boolean };
  return req.httpVersionMajor === 1 && req.method !== 'HEAD' && socket.encrypted !== true && descriptorOf(socket) !== undefined;
}

/**
 * node:http's own fields of a server connection: `_paused` is its flag for one it must not read
 * (its backpressure for pipelined requests), which its resume() calls respect; `parser` pauses
 * with it, and reads the socket's handle itself once it has `_consumed` it (its bytes then never
 * wait in the socket's own buffer).
 */
type ServerSocket = Socket & {
  _handle?: { _consumed?: boolean } | null;
  _paused?: boolean;
  _httpMessage?: ServerResponse | null;
  parser?: NodeParser | null;
  server?: Record<symbol, unknown> & { insecureHTTPParser?: boolean; maxHeaderSize?: number };
};

/** node:http's HTTPParser, as its server sets one up for each connection. */
interface NodeParser {
  resume(): void;
  initialize?: (type: number, resource: object, maxHeaderSize: number, lenient: number, connections: unknown) => void;
  constructor: { REQUEST?: number };
}

/**
 * Stops node reading the request's socket, so that the runner may read the rest of its body
 * (a lent upload); resolves with the body bytes node had read already, or undefined when it
 * cannot stop now: an earlier request's response is still on its way (pipelined), and node
 * resumes reading once it drains.
 */
export async function holdReading(req: IncomingMessage, res: ServerResponse): Promise<Buffer[] | undefined> {
  const socket = req.socket as ServerSocket;
  if (socket._handle?._consumed !== true || socket._paused === true || socket._httpMessage !== res || socket.writableLength > 0 || socket.writableNeedDrain) return undefined;
  socket._paused = true;
  // Emits 'pause', on which node:http stops reading the socket (its parser consumes it natively).
  socket.pause();
  // The parser is amid the chunk that brought the request's head: the body bytes of that chunk
  // reach the request once it is done with it.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const start: Buffer[] = [];
  for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) start.push(chunk);
  return start;
}

/** Lets node read the socket again after holdReading(), when the runner did not take it. */
export function resumeReading(req: IncomingMessage): void {
  const socket = req.socket as ServerSocket;
  socket._paused = false;
  socket.parser?.resume();
  socket.resume();
}

/**
 * After the runner has read the rest of the request's body itself (a lent upload), has node's
 * parser take the connection's next bytes as a new request, as if it had read the body: it
 * starts over, as node starts it for a new connection (within the server's head limits and
 * timeouts). False where it cannot (a lenient parser, or a node whose parser has no such
 * start): the connection must then close after the response.
 */
export function restartParser(req: IncomingMessage): boolean {
  const socket = req.socket as ServerSocket;
  const parser = socket.parser;
  const server = socket.server;
  const request = parser?.constructor.REQUEST;
  if (parser?.initialize === undefined || request === undefined || server === undefined || server.insecureHTTPParser === true || process.execArgv.includes('--insecure-http-parser')) return false;
  const connections = Object.getOwnPropertySymbols(server).find((symbol) => symbol.description === 'http.server.connections');
  parser.initialize(request, {}, server.maxHeaderSize ?? 0, 0, connections === undefined ? undefined : server[connections]);
  return true;
}

/** A socket's file descriptor, which node keeps on its (libuv) handle; undefined for a socket without one. */
function descriptorOf(socket: Socket): number | undefined {
  const fd = (socket as Socket & { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

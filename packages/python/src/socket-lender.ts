// Lends a client's socket to the Python process, which writes large response bodies to it itself
// instead of sending them through the worker (frames/SPEC.md, "Lending the client's socket"):
// the socket's descriptor, with the stream's id, goes over a socket pair of its own (fd 5 in the
// runner). Only plain HTTP/1.x connections are lent: the runner writes bytes as they are, so
// neither TLS nor HTTP/2 framing can be its to do. Runs in the worker.
import { openDescriptorSender } from '@bicorn/runtime';
import type { IncomingMessage } from 'node:http';
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

/** Whether the request's connection may be lent: plain HTTP/1.x (no TLS), with a body to send (not HEAD). */
export function lendableConnection(req: IncomingMessage): boolean {
  const socket = req.socket as Socket & { encrypted?: boolean };
  return req.httpVersionMajor === 1 && req.method !== 'HEAD' && socket.encrypted !== true && descriptorOf(socket) !== undefined;
}

/** A socket's file descriptor, which node keeps on its (libuv) handle; undefined for a socket without one. */
function descriptorOf(socket: Socket): number | undefined {
  const fd = (socket as Socket & { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

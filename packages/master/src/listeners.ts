// The master's listening sockets: bound once, before any worker starts, and kept for the
// master's whole life. The master accepts connections without reading them and hands each
// to a worker (see dispatch.ts), so the sockets never depend on which workers are alive.
import { formatBind, parseBind } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Listener {
  readonly index: number;
  /** The address actually bound, with the real port when port 0 was asked for. */
  readonly address: string;
  readonly server: Server;
}

export interface ListenerEvents {
  readonly connection: (listener: number, socket: Socket) => void;
  /** An error on a bound listener, such as a failed accept; the listener keeps listening. */
  readonly error: (address: string, error: Error) => void;
}

export async function bindListeners(binds: readonly string[], backlog: number, events: ListenerEvents): Promise<Listener[]> {
  const listeners: Listener[] = [];
  try {
    for (const [index, bind] of binds.entries()) {
      listeners.push(await bindOne(index, bind, backlog, events));
    }
  } catch (error) {
    closeListeners(listeners);
    throw error;
  }
  return listeners;
}

export function closeListeners(listeners: readonly Listener[]): void {
  for (const listener of listeners) listener.server.close();
}

async function bindOne(index: number, bind: string, backlog: number, events: ListenerEvents): Promise<Listener> {
  const target = parseBind(bind);
  // Config validation has already refused anything parseBind cannot read.
  if (typeof target === 'string') throw new BicornError('BIND_FAILED', { address: bind, errno: 'EINVAL', reason: target });
  const server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    events.connection(index, socket);
  });
  await new Promise<void>((resolve, reject) => {
    const onBindError = (error: NodeJS.ErrnoException): void => {
      reject(new BicornError('BIND_FAILED', { address: bind, errno: error.code ?? 'unknown', reason: bindFailureReason(error) }));
    };
    server.once('error', onBindError);
    server.listen({ host: target.host, port: target.port, backlog }, () => {
      server.off('error', onBindError);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const bound = formatBind({ host: address, port });
  server.on('error', (error) => {
    events.error(bound, error);
  });
  return { index, address: bound, server };
}

export function bindFailureReason(error: NodeJS.ErrnoException): string {
  switch (error.code ?? '') {
    case 'EADDRINUSE':
      return 'the address is already in use (is another server running there?)';
    case 'EACCES':
      return 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)';
    case 'EADDRNOTAVAIL':
      return 'this machine has no such address';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    default:
      return error.message;
  }
}

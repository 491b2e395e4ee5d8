// The master's listening sockets: bound once, before any worker starts, and kept for the
// master's whole life. The master accepts connections without reading them and hands each
// to a worker (see dispatch.ts), so the sockets never depend on which workers are alive.
// TCP and unix sockets are bound here; fd:// and systemd sockets are adopted as they are.
import { formatBind, parseBind, type BindTarget } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import { fstatSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Identity } from './accounts.js';
import type { ActivatedSocket } from './socket-activation.js';
import { clearUnixPath, shapeUnixSocket } from './unix-socket.js';

export interface Listener {
  readonly index: number;
  /** The address actually bound, with the real port when port 0 was asked for. */
  readonly address: string;
  readonly server: Server;
  /** The descriptor it was inherited on (fd://, systemd), which workers must not inherit. */
  readonly inheritedFd: number | undefined;
}

export interface ListenerEvents {
  readonly connection: (listener: number, socket: Socket) => void;
  /** An error on a bound listener, such as a failed accept; the listener keeps listening. */
  readonly error: (address: string, error: NodeJS.ErrnoException) => void;
}

export interface BindOptions {
  readonly backlog: number;
  readonly socketMode: number;
  /** Who owns the unix socket files; undefined: whoever bicorn runs as. */
  readonly socketOwner: Identity | undefined;
  /** The sockets systemd passed (LISTEN_FDS), already taken from the environment. */
  readonly activated: readonly ActivatedSocket[];
}

/** One socket to listen on, with the bind that asked for it (for errors). */
export interface Planned {
  readonly bind: string;
  readonly target: Exclude<BindTarget, { kind: 'systemd' }>;
}

/**
 * The sockets to listen on. Under socket activation without a `systemd` bind, the activated
 * sockets replace the addresses, as the socket unit is where the addresses live then.
 */
export function planListeners(binds: readonly string[], activated: readonly ActivatedSocket[]): { planned: Planned[]; replaced: boolean } {
  const targets = binds.map((bind) => ({ bind, target: parseBind(bind) }));
  const wantsSystemd = targets.some(({ target }) => typeof target !== 'string' && target.kind === 'systemd');
  if (activated.length > 0 && !wantsSystemd) {
    return { planned: activated.map(({ fd, name }) => ({ bind: `systemd:${name}`, target: { kind: 'fd', fd } })), replaced: true };
  }
  const planned: Planned[] = [];
  for (const { bind, target } of targets) {
    // Config validation has already refused anything parseBind cannot read.
    if (typeof target === 'string') throw new BicornError('BIND_FAILED', { address: bind, errno: 'EINVAL', reason: target });
    if (target.kind !== 'systemd') {
      planned.push({ bind, target });
      continue;
    }
    const chosen = activated.filter(({ name }) => target.name === null || name === target.name);
    if (chosen.length === 0) throw new BicornError('BIND_FAILED', { address: bind, errno: 'ENOENT', reason: noActivatedSocket(target.name, activated) });
    for (const { fd } of chosen) planned.push({ bind, target: { kind: 'fd', fd } });
  }
  return { planned, replaced: false };
}

function noActivatedSocket(name: string | null, activated: readonly ActivatedSocket[]): string {
  if (activated.length === 0) return 'systemd passed no sockets (LISTEN_FDS is unset): start bicorn through its .socket unit, or bind an address';
  return `systemd passed no socket named ${name ?? ''}; it passed ${activated.map((s) => s.name).join(', ')} (FileDescriptorName= in the .socket unit)`;
}

export async function bindListeners(planned: readonly Planned[], options: BindOptions, events: ListenerEvents): Promise<Listener[]> {
  const listeners: Listener[] = [];
  try {
    for (const [index, { bind, target }] of planned.entries()) {
      listeners.push(await bindOne(index, bind, target, options, events));
    }
  } catch (error) {
    closeListeners(listeners);
    throw error;
  }
  return listeners;
}

export function closeListeners(listeners: readonly Listener[]): void {
  // Closing a unix socket bound here also removes its file; an inherited one stays its owner's.
  for (const listener of listeners) listener.server.close();
}

async function bindOne(index: number, bind: string, target: Planned['target'], options: BindOptions, events: ListenerEvents): Promise<Listener> {
  const server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    events.connection(index, socket);
  });
  const { backlog } = options;
  let bound: string;
  switch (target.kind) {
    case 'tcp':
      bound = await listen(server, bind, target, () => server.listen({ host: target.host, port: target.port, backlog }));
      break;
    case 'unix':
      await clearUnixPath(target.path, bind);
      // Created owner-only, then opened up to socket_mode: no moment at a looser umask's mode.
      bound = await listen(server, bind, target, () => {
        const umask = process.umask(0o177);
        try {
          server.listen({ path: target.path, backlog });
        } finally {
          process.umask(umask);
        }
      });
      shapeUnixSocket(target.path, bind, options.socketMode, options.socketOwner);
      break;
    case 'fd':
      checkDescriptor(target.fd, bind);
      bound = await listen(server, bind, target, () => server.listen({ fd: target.fd, backlog }));
      break;
  }
  server.on('error', (error) => {
    events.error(bound, error);
  });
  return { index, address: bound, server, inheritedFd: target.kind === 'fd' ? target.fd : undefined };
}

/**
 * Runs `start` (a server.listen call) and resolves with the address bound, or rejects with
 * BIND_FAILED saying what to do. The master's health server listens through it too.
 */
export function listen(server: Server, bind: string, target: Planned['target'], start: () => void): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const onBindError = (error: NodeJS.ErrnoException): void => {
      reject(new BicornError('BIND_FAILED', { address: bind, errno: error.code ?? 'unknown', reason: bindFailureReason(error, target.kind) }));
    };
    server.once('error', onBindError);
    server.once('listening', () => {
      server.off('error', onBindError);
      resolve(describeAddress(server, target));
    });
    start();
  });
}

function checkDescriptor(fd: number, bind: string): void {
  try {
    if (!fstatSync(fd).isSocket()) throw new BicornError('BIND_FAILED', { address: bind, errno: 'ENOTSOCK', reason: `descriptor ${String(fd)} is not a socket` });
  } catch (error) {
    if (error instanceof BicornError) throw error;
    throw new BicornError('BIND_FAILED', { address: bind, errno: 'EBADF', reason: `descriptor ${String(fd)} is not open: pass a listening socket on it to bicorn` });
  }
}

function describeAddress(server: Server, target: Planned['target']): string {
  const address = server.address();
  if (typeof address === 'string') return `unix:${address}`;
  if (address !== null) return formatBind({ host: address.address, port: address.port });
  return target.kind === 'unix' ? `unix:${target.path}` : `fd://${String(target.kind === 'fd' ? target.fd : '')}`;
}

function bindFailureReason(error: NodeJS.ErrnoException, kind: Planned['target']['kind']): string {
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
    case 'EINVAL':
      // Only an inherited descriptor can be the wrong kind of socket.
      return kind === 'fd' ? 'not a listening stream socket (a datagram socket, or one already connected?)' : error.message;
    default:
      return error.message;
  }
}

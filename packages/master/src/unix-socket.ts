// Unix socket files for `unix:` binds: a stale file left by a dead server is replaced, a live
// server's refuses the bind, a file that is not a socket is never touched; the new socket gets
// socket_mode and socket_owner. Runs in the master, before any worker starts.
import { BicornError } from '@bicorn/protocol';
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Identity } from './accounts.js';

/** Makes `path` free to bind, or throws the reason it is not. */
export async function clearUnixPath(path: string, bind: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw failed(bind, error as NodeJS.ErrnoException);
    mkdirSync(dirname(path), { recursive: true });
    return;
  }
  if (!isSocket) throw new BicornError('BIND_FAILED', { address: bind, errno: 'EEXIST', reason: 'a file that is not a socket is in the way (bicorn only replaces stale sockets)' });
  if (await answers(path)) throw new BicornError('BIND_FAILED', { address: bind, errno: 'EADDRINUSE', reason: 'a server is listening on this socket (is bicorn already running there?)' });
  // Nobody listens: a server that died without removing it.
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw failed(bind, error as NodeJS.ErrnoException);
  }
}

/** Applies socket_mode and socket_owner to a socket file just bound. */
export function shapeUnixSocket(path: string, bind: string, mode: number, owner: Identity | undefined): void {
  try {
    if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
    chmodSync(path, mode);
  } catch (error) {
    throw failed(bind, error as NodeJS.ErrnoException);
  }
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path }, () => {
      probe.destroy();
      resolve(true);
    });
    // ECONNREFUSED: nobody listens. EACCES and the like: someone else's socket, so alive.
    probe.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code !== 'ECONNREFUSED' && error.code !== 'ENOENT');
    });
  });
}

function failed(bind: string, error: NodeJS.ErrnoException): BicornError {
  const reason = error.code === 'EACCES' || error.code === 'EPERM' ? 'permission denied on the socket file or its directory' : error.message;
  return new BicornError('BIND_FAILED', { address: bind, errno: error.code ?? 'unknown', reason });
}

// The control socket (--control-socket): a unix socket the master listens on, one JSON object a
// line each way (the protocol is in @bicorn/protocol's control.ts, described in this package's
// README). Node cannot read a peer's credentials, so access rests on the socket file's mode
// (control_socket_mode, 600 by default) and on its folder. Runs in the master.
import { BicornError, isBicornError, parseControlRequest, type ControlRequest, type ControlResponse } from '@bicorn/protocol';
import type { Logger } from '@bicorn/runtime';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { ControlPath } from './control-path.js';
import { clearUnixPath, shapeUnixSocket } from './unix-socket.js';

/** Answers one request; `gone` settles when the client's connection closes. */
export type ControlHandler = (request: ControlRequest, gone: Promise<void>) => Promise<ControlResponse>;

export interface ControlServer {
  readonly path: string;
  /** Stops listening, closes every connection (a client waiting for the stop sees it) and removes the file. */
  close(): void;
}

/** A request line longer than this is refused: no request needs more. */
const MAX_LINE = 64 * 1024;

/**
 * Listens on the control socket. A path named by --control-socket that cannot be used stops
 * bicorn (CONTROL_SOCKET_FAILED); the default path only logs why there is no control socket.
 */
export async function serveControl(where: ControlPath, mode: number, handle: ControlHandler, log: Logger): Promise<ControlServer | undefined> {
  if (where.kind === 'none') {
    log.info({ reason: where.reason }, 'no control socket: bicorn status and its siblings cannot reach this server (set control_socket)');
    return undefined;
  }
  const { path } = where;
  try {
    await clearUnixPath(path, path);
    const connections = new Set<Socket>();
    const server = createServer((socket) => {
      serveConnection(socket, handle, connections);
    });
    await listenPrivately(server, path);
    shapeUnixSocket(path, path, mode, undefined);
    log.info({ path }, 'control socket listening');
    return {
      path,
      close: () => {
        server.close();
        for (const socket of connections) socket.destroy();
        rmSync(path, { force: true });
      },
    };
  } catch (error) {
    const { errno, reason } = describeFailure(error);
    if (where.explicit) throw new BicornError('CONTROL_SOCKET_FAILED', { path, errno, reason });
    // The default place: a read-only container, or another bicorn there. Serve on without it.
    if (errno === 'EADDRINUSE') log.warn({ path, reason }, 'no control socket: another server answers on the default one; give this one --control-socket');
    else log.info({ path, reason }, 'no control socket: its default folder is not writable (set control_socket)');
    return undefined;
  }
}

/** Binds with a umask that leaves only the owner in, until control_socket_mode applies. */
function listenPrivately(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const umask = process.umask(0o177);
    try {
      server.listen({ path }, () => {
        server.off('error', reject);
        // A failed accept (EMFILE) must not take the master down.
        server.on('error', () => undefined);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}

function serveConnection(socket: Socket, handle: ControlHandler, connections: Set<Socket>): void {
  connections.add(socket);
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void gone.then(() => connections.delete(socket));
  socket.on('error', () => undefined);
  socket.setEncoding('utf8');
  let buffered = '';
  // One request at a time, answered in order.
  let queue = Promise.resolve();
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf('\n');
    while (end !== -1) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      if (line.trim() !== '') queue = queue.then(() => answer(socket, line, handle, gone));
      end = buffered.indexOf('\n');
    }
    if (buffered.length > MAX_LINE) {
      socket.end(`${JSON.stringify({ ok: false, error: `a request is one line of at most ${String(MAX_LINE)} bytes` })}\n`);
    }
  });
}

async function answer(socket: Socket, line: string, handle: ControlHandler, gone: Promise<void>): Promise<void> {
  let response: ControlResponse;
  try {
    response = await handle(parseControlRequest(parseJson(line)), gone);
  } catch (error) {
    response = { ok: false, error: isBicornError(error) ? error.message : `internal error: ${(error as Error).message}` };
  }
  if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new BicornError('CONTROL_INVALID', { reason: 'a request is one JSON object on one line, such as {"command":"status"}' });
  }
}

function describeFailure(error: unknown): { errno: string; reason: string } {
  // clearUnixPath and shapeUnixSocket say what is wrong as for a unix: bind.
  if (isBicornError(error) && error.code === 'BIND_FAILED') {
    const { errno, reason } = (error as BicornError<'BIND_FAILED'>).details;
    return { errno, reason };
  }
  const { code, message } = error as NodeJS.ErrnoException;
  return { errno: code ?? 'unknown', reason: code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'its folder is not writable' : message };
}

// The client end of the control socket: sends one request line and reads the answer line; for
// `stop` it can then wait for the master to close the connection as it exits. Runs in the CLI.
import { BicornError, parseControlResponse, type ControlRequest, type ControlResponse } from '@bicorn/protocol';
import { connect } from 'node:net';

export interface ControlCall {
  readonly path: string;
  readonly request: ControlRequest;
  readonly timeoutMs: number;
  /** After the answer, wait until the master closes the connection (it does as it exits). */
  readonly untilClosed: boolean;
}

export function callControl(call: ControlCall): Promise<ControlResponse> {
  const { path, request } = call;
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    let buffered = '';
    let answer: ControlResponse | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      const seconds = String(Math.round(call.timeoutMs / 1000));
      reject(new BicornError('CONTROL_FAILED', { command: request.command, error: `no outcome within ${seconds} s (--timeout); it may still be under way: see bicorn status` }));
    }, call.timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => {
      if (answer !== undefined) return;
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end === -1) return;
      try {
        answer = parseControlResponse(JSON.parse(buffered.slice(0, end)));
      } catch (error) {
        fail(error instanceof BicornError ? error : new BicornError('CONTROL_INVALID', { reason: 'the answer is not JSON' }));
        return;
      }
      if (!call.untilClosed || !answer.ok) {
        clearTimeout(timer);
        socket.end();
        resolve(answer);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      fail(new BicornError('CONTROL_UNREACHABLE', { path, reason: describeErrno(error) }));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (answer !== undefined) resolve(answer);
      else reject(new BicornError('CONTROL_UNREACHABLE', { path, reason: 'the server closed the connection without an answer' }));
    });
  });
}

function describeErrno(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'there is no socket there';
    case 'ECONNREFUSED':
      return 'nothing listens on it (a server that died left it)';
    case 'EACCES':
    case 'EPERM':
      return "permission denied: the socket is its owner's (see control_socket_mode); run this as that user, or root";
    default:
      return error.message;
  }
}

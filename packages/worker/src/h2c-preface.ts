// Prior-knowledge h2c beside HTTP/1.1 on one plain bind (http2_cleartext prior-knowledge): a
// connection's first bytes say which it speaks, HTTP/2's 24-byte preface (RFC 9113 3.4) or
// anything else; they go back on the socket for the server chosen. Runs in the worker, once per
// connection on a plain bind when h2c is served.
import type { Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type PrefaceVerdict = 'h2' | 'h1' | 'incomplete';

/** Pure: what the bytes received so far say. */
export function readPreface(received: Buffer): PrefaceVerdict {
  const compared = Math.min(received.length, PREFACE.length);
  if (received.compare(PREFACE, 0, compared, 0, compared) !== 0) return 'h1';
  return compared === PREFACE.length ? 'h2' : 'incomplete';
}

/**
 * Waits for the first bytes to tell; the socket is then paused with them unshifted. 'closed'
 * when the connection ends or header_timeout (`timeoutMs`, 0: none) passes first.
 */
export function sniffPreface(socket: Socket, timeoutMs: number): Promise<'h2' | 'h1' | 'closed'> {
  return new Promise((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (outcome: 'h2' | 'h1' | 'closed'): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.pause();
      if (outcome !== 'closed' && received.length > 0) socket.unshift(received);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const verdict = readPreface(received);
      if (verdict !== 'incomplete') finish(verdict);
    };
    const onEnd = (): void => {
      finish('closed');
    };
    const timer = setTimeout(onEnd, timeoutMs > 0 ? timeoutMs : 2 ** 31 - 1);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

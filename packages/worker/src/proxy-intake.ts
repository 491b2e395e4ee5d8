// Reads a connection's PROXY protocol header before node:http sees the connection: from an
// allowed peer the header must come (the spec forbids guessing), from any other peer it must
// not; the bytes after it go back on the socket for node:http. Runs in the worker, once per
// connection when proxy_protocol is on.
import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxyProtocolMode, type ProxySource } from './proxy-protocol.js';

export type ProxyIntake =
  /** Serve the connection; `source` (from an allowed peer's header) is its client. */
  | { readonly kind: 'serve'; readonly source: ProxySource | undefined }
  | { readonly kind: 'refuse'; readonly reason: string };

export interface ProxyIntakeOptions {
  readonly mode: ProxyProtocolMode;
  /** The peer is in proxy_allow_ips (or on a unix socket). */
  readonly allowed: boolean;
  /** header_timeout; 0: none. */
  readonly timeoutMs: number;
}

/** The most bytes a header can take: a v2 header's fixed part and its 16-bit length. */
const MOST_BYTES = 16 + 0xffff;

/**
 * Reads until the first bytes tell; on 'serve' the socket is paused with the bytes after the
 * header unshifted, ready for node:http. On 'refuse' the caller closes it.
 */
export function readProxyHeader(socket: Socket, options: ProxyIntakeOptions): Promise<ProxyIntake> {
  return new Promise((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (outcome: ProxyIntake, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.pause();
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const header = parseProxyHeader(received, options.mode);
      switch (header.kind) {
        case 'incomplete':
          if (received.length >= MOST_BYTES) finish({ kind: 'refuse', reason: 'a PROXY header that never ends' });
          return;
        case 'invalid':
          finish({ kind: 'refuse', reason: header.reason });
          return;
        case 'absent':
          if (options.allowed) finish({ kind: 'refuse', reason: 'no PROXY header from a proxy allowed to send one' });
          else finish({ kind: 'serve', source: undefined }, received);
          return;
        case 'header':
          if (!options.allowed) finish({ kind: 'refuse', reason: 'a PROXY header from a peer not in proxy_allow_ips' });
          else finish({ kind: 'serve', source: header.source }, received.subarray(header.length));
          return;
      }
    };
    const onEnd = (): void => {
      finish({ kind: 'refuse', reason: 'the connection closed before a PROXY header' });
    };
    const timer = setTimeout(() => {
      finish({ kind: 'refuse', reason: 'no PROXY header within header_timeout' });
    }, options.timeoutMs > 0 ? options.timeoutMs : 2 ** 31 - 1);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/**
 * Makes the socket report the header's client as its peer, so that every host, the access log
 * and a Node app's `req.socket.remoteAddress` see the client rather than the proxy.
 */
export function presentAsClient(socket: Socket, source: ProxySource): void {
  Object.defineProperties(socket, {
    remoteAddress: { value: source.address, configurable: true },
    remotePort: { value: source.port, configurable: true },
    remoteFamily: { value: source.family, configurable: true },
  });
}

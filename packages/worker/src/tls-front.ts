// TLS on the connections of the listeners that serve it: node:tls's server (never listening) does
// the handshake with the files and ticket keys the master sent, and client certificates as
// cert_reqs asks; the decrypted socket then goes to the HTTP front as any other. Runs in a worker.
import { secureContextOptions, type Config } from '@bicorn/config';
import type { TlsBoot } from '@bicorn/protocol';
import type { Logger } from '@bicorn/runtime';
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';

/** node's own handshake timeout, used when header_timeout is 0. */
const DEFAULT_HANDSHAKE_MS = 120_000;

export class TlsFront {
  readonly listeners: ReadonlySet<number>;
  readonly #server: Server;
  readonly #certReqs: 0 | 1 | 2;
  /** Where each connection under handshake goes once secure, by the peer's address and port. */
  readonly #pending = new Map<string, (socket: TLSSocket) => void>();

  /** `alpn`: the protocols offered, in order of preference (`h2`, `http/1.1`). */
  constructor(config: Config, boot: TlsBoot, alpn: readonly string[], log: Logger) {
    this.listeners = new Set(boot.listeners);
    this.#certReqs = config.cert_reqs;
    this.#server = createServer({
      ...secureContextOptions(config, boot),
      ticketKeys: Buffer.from(boot.ticketKeys, 'base64'),
      requestCert: config.cert_reqs > 0,
      // cert_reqs 1 lets a client send none; one that sends a certificate that does not verify is refused below.
      rejectUnauthorized: config.cert_reqs === 2,
      handshakeTimeout: config.header_timeout > 0 ? config.header_timeout * 1000 : DEFAULT_HANDSHAKE_MS,
      ALPNProtocols: [...alpn],
      allowHalfOpen: true,
    });
    this.#server.on('secureConnection', (socket: TLSSocket) => {
      const key = peerKey(socket);
      const next = this.#pending.get(key);
      this.#pending.delete(key);
      if (this.#certReqs === 1 && !socket.authorized && Object.keys(socket.getPeerCertificate()).length > 0) {
        log.debug({ peer: socket.remoteAddress, reason: String(socket.authorizationError) }, 'TLS client certificate refused');
        socket.destroy();
        return;
      }
      next?.(socket);
    });
    this.#server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.#pending.delete(peerKey(socket));
      log.debug({ peer: socket.remoteAddress, reason: error.message }, 'TLS handshake failed');
    });
  }

  /** Runs the handshake on `raw`; `secure` gets the decrypted socket, unless the handshake fails. */
  handshake(raw: Socket, secure: (socket: TLSSocket) => void): void {
    const key = peerKey(raw);
    this.#pending.set(key, secure);
    raw.once('close', () => this.#pending.delete(key));
    this.#server.emit('connection', raw);
  }
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}:${String(socket.remotePort)}`;
}

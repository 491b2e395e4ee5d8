// ASGI's `tls` extension (asgiref's specs/tls.rst, version 0.2): what a TLS connection says of
// itself and of the client's certificate, computed once per connection. Runs in the worker.
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

// Known without node:tls, node:http2 and node:crypto, which a worker serving plain HTTP/1.1
// does not load (about 1.2 MiB): crypto is loaded at the first TLS connection's description.
const require = createRequire(import.meta.url);

export interface AsgiTlsExtension {
  readonly server_cert: string | null;
  readonly client_cert_chain: readonly string[];
  readonly client_cert_name: string | null;
  readonly client_cert_error: string | null;
  readonly tls_version: number | null;
  readonly cipher_suite: number | null;
}

const versions: Readonly<Record<string, number>> = { TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 };

// IANA's numbers of the suites Node.js offers by default; another suite is reported as null,
// as the spec allows, since node:tls gives names only.
const suites: Readonly<Record<string, number>> = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  TLS_AES_128_CCM_SHA256: 0x1304,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 0xc02f,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 0xc030,
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 0xc02b,
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 0xc02c,
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca8,
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca9,
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 0x009e,
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 0x009f,
};

const byConnection = new WeakMap<TLSSocket, Readonly<{ tls: AsgiTlsExtension }>>();

/** `{ tls: ... }` for a request on a TLS connection, else undefined. */
export function tlsExtensionOf(req: IncomingMessage): Readonly<{ tls: AsgiTlsExtension }> | undefined {
  const socket = connectionOf(req);
  if (!isTls(socket)) return undefined;
  let found = byConnection.get(socket);
  if (found === undefined) {
    found = Object.freeze({ tls: Object.freeze(describe(socket)) });
    byConnection.set(socket, found);
  }
  return found;
}

/** The request's connection: an HTTP/2 request's own `socket` is a new view for each stream, its session's one per connection. */
function connectionOf(req: IncomingMessage): Socket {
  if (req.httpVersionMajor !== 2) return req.socket;
  const stream = (req as unknown as Http2ServerRequest).stream;
  return stream.session?.socket ?? req.socket;
}

function isTls(socket: Socket): socket is TLSSocket {
  return (socket as Partial<TLSSocket>).encrypted === true;
}

function describe(socket: TLSSocket): AsgiTlsExtension {
  const chain = clientChain(socket.getPeerCertificate(true));
  const leaf = chain[0];
  const cipher = socket.getCipher() as { standardName?: string } | undefined;
  const protocol = socket.getProtocol();
  return {
    server_cert: socket.getX509Certificate()?.toString() ?? null,
    client_cert_chain: chain.map((cert) => cert.toString()),
    client_cert_name: leaf === undefined ? null : rfc4514(leaf.subject),
    // A certificate that did not verify never gets this far (see the worker's tls-front.ts).
    client_cert_error: null,
    tls_version: protocol === null ? null : (versions[protocol] ?? null),
    cipher_suite: cipher?.standardName === undefined ? null : (suites[cipher.standardName] ?? null),
  };
}

/** The client's certificate, then each issuer of the chain it was verified with, up to the CA. */
function clientChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const { X509Certificate: Certificate } = require('node:crypto') as typeof import('node:crypto');
  const chain: X509Certificate[] = [];
  let cert: DetailedPeerCertificate | undefined = Object.keys(peer).length === 0 ? undefined : peer;
  while (cert !== undefined && chain.length < 10) {
    chain.push(new Certificate(cert.raw));
    const issuer = cert.issuerCertificate as DetailedPeerCertificate | undefined;
    cert = issuer === undefined || issuer === cert || issuer.fingerprint256 === cert.fingerprint256 ? undefined : issuer;
  }
  return chain;
}

/** node's subject (one `type=value` a line, most significant first) as RFC 4514 writes a DN. */
function rfc4514(subject: string): string {
  return subject
    .split('\n')
    .reverse()
    .map((rdn) => {
      const equals = rdn.indexOf('=');
      return `${rdn.slice(0, equals)}=${rdn.slice(equals + 1).replace(/[,+"\\<>;]/g, '\\$&').replace(/^[ #]|[ ]$/g, '\\$&')}`;
    })
    .join(',');
}

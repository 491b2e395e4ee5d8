// The request head the runner gets in HTTP_REQUEST: path and query from the request target,
// the headers with lower-cased names, where the request came from (the worker's front sets
// the client, scheme, server, Host and root path a trusted proxy forwarded), and what the app
// is told of the body. Pure; runs in the worker, per request.
import { requestOrigin, splitTarget, tlsExtensionOf, type AsgiTlsExtension } from '@bicorn/gateway';
import type { IncomingMessage } from 'node:http';
import type { EncodableFrame, TlsHead } from '@bicorn/protocol';

export type RequestFrame = Extract<EncodableFrame, { type: 'http-request' }>;

/**
 * How the body reaches the runner: `none`; `streamed` (ASGI: as it arrives, the headers as the
 * client sent them); or the size of a body received whole first (WSGI apps read CONTENT_LENGTH,
 * so a chunked upload is told its length, and Transfer-Encoding goes).
 */
export type BodyPlan = 'none' | 'streamed' | number;

/**
 * `bodyFile`: the path the runner reads a body received whole from, instead of frames;
 * `lendable`: the runner may borrow the client's socket for the response body (HTTP_BORROW);
 * `held`: the runner holds the whole body (`body` its size), received from the client's socket.
 */
export function requestFrame(stream: number, req: IncomingMessage, rootPath: string, body: BodyPlan, bodyFile?: string, lendable = false, held = false): RequestFrame {
  const { path, query } = splitTarget(req.url ?? '/');
  const origin = requestOrigin(req, rootPath);
  const whole = typeof body === 'number';
  const headers = lowerCaseNames(origin.rawHeaders, whole);
  if (whole) headers.push('content-length', String(body));
  return {
    type: 'http-request',
    stream,
    more: body !== 'none' && bodyFile === undefined && !held,
    method: req.method ?? 'GET',
    scheme: origin.scheme,
    // ASGI's http_version and WSGI's SERVER_PROTOCOL say `2` for HTTP/2 (node says 2.0).
    httpVersion: req.httpVersionMajor === 2 ? '2' : req.httpVersion,
    path,
    queryString: query,
    rootPath: origin.rootPath,
    client: origin.client,
    server: origin.server === null ? null : [origin.server[0], origin.server[1] ?? 0],
    headers,
    tls: tlsHeadOf(req),
    bodyFile: bodyFile === undefined ? undefined : Buffer.from(bodyFile),
    lendable,
    held,
  };
}

/** What the runner tells the app of a TLS connection (ASGI's `tls` extension, WSGI's SSL_CLIENT_*). */
export function tlsHeadOf(req: IncomingMessage): TlsHead | undefined {
  return tlsHeadFrom(tlsExtensionOf(req)?.tls);
}

/** The same, from the `tls` extension the gateway put in a scope (WebSocket connections). */
export function tlsHeadFrom(tls: AsgiTlsExtension | undefined): TlsHead | undefined {
  if (tls === undefined) return undefined;
  return {
    version: tls.tls_version ?? 0,
    cipherSuite: tls.cipher_suite ?? 0,
    serverCert: tls.server_cert ?? '',
    clientCertName: tls.client_cert_name ?? '',
    clientCertChain: tls.client_cert_chain,
  };
}

const nameCache = new Map<string, string>();

/** Header names lower-cased, as flat name, value pairs; without the framing ones when asked. */
function lowerCaseNames(raw: readonly string[], dropFraming: boolean): string[] {
  const flat: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    let lower = nameCache.get(name);
    if (lower === undefined) {
      lower = name.toLowerCase();
      if (nameCache.size < 1000) nameCache.set(name, lower);
    }
    if (dropFraming && (lower === 'content-length' || lower === 'transfer-encoding')) continue;
    flat.push(lower, raw[i + 1] ?? '');
  }
  return flat;
}

// Builds the ASGI websocket scope from an upgrade request's line and headers, without I/O.
// Runs in the worker, once per WebSocket.
import type { AsgiVersion } from './asgi-types.js';
import { decodePath, headerPairs, splitTarget, type HttpScopeInput } from './http-scope.js';
import type { AsgiTlsExtension } from './tls-extension.js';
import type { WebSocketScope } from './websocket-types.js';

export type WebSocketScopeInput = Omit<HttpScopeInput, 'method' | 'scheme' | 'extensions'> & {
  readonly scheme: 'ws' | 'wss';
  /** ASGI's `tls` extension, on a TLS connection. */
  readonly tls?: Readonly<{ tls: AsgiTlsExtension }> | undefined;
};

const ASGI: AsgiVersion = Object.freeze({ version: '3.0', spec_version: '2.4' });
const EXTENSIONS = Object.freeze({ 'websocket.http.response': Object.freeze({}) });

export function buildWebSocketScope(input: WebSocketScopeInput): WebSocketScope {
  const { path: pathPart, query } = splitTarget(input.target);
  const root = input.rootPath;
  const headers = headerPairs(input.rawHeaders);
  const scope: WebSocketScope = {
    type: 'websocket',
    asgi: ASGI,
    http_version: input.httpVersion === '1.0' ? '1.0' : input.httpVersion === '2.0' ? '2' : '1.1',
    scheme: input.scheme,
    path: root + decodePath(pathPart),
    raw_path: root === '' ? Buffer.from(pathPart, 'latin1') : Buffer.concat([Buffer.from(root), Buffer.from(pathPart, 'latin1')]),
    query_string: Buffer.from(query, 'latin1'),
    root_path: root,
    headers,
    client: input.client,
    server: input.server,
    subprotocols: subprotocolsOf(input.rawHeaders),
    extensions: input.tls === undefined ? EXTENSIONS : { ...EXTENSIONS, ...input.tls },
  };
  return input.state === undefined ? scope : { ...scope, state: { ...input.state } };
}

/** The protocols the client offers, in its order, from every `Sec-WebSocket-Protocol` header. */
export function subprotocolsOf(rawHeaders: readonly string[]): string[] {
  const offered: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() !== 'sec-websocket-protocol') continue;
    for (const part of (rawHeaders[i + 1] ?? '').split(',')) {
      const protocol = part.trim();
      if (protocol !== '') offered.push(protocol);
    }
  }
  return offered;
}

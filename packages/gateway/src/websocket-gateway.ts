// WebSocket ⇄ ASGI for a worker's HTTP server: checks each upgrade request, runs the app for
// it, completes accepted handshakes with ws, and closes every WebSocket on drain. Knows
// nothing of where the app runs (in-process, or a relay to a Python process). Runs in the worker.
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { writePlainResponse } from './handshake-response.js';
import type { GatewayLog } from './log.js';
import { requestOrigin } from './request-origin.js';
import { tlsExtensionOf } from './tls-extension.js';
import { checkUpgradeRequest } from './upgrade-request.js';
import { buildWebSocketScope } from './websocket-scope.js';
import { WebSocketSession, type HandshakeAnswer, type SessionContext } from './websocket-session.js';
import type { AsgiWebSocketCallable } from './websocket-types.js';

export interface WebSocketGatewayOptions {
  readonly maxMessageSize: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly perMessageDeflate: boolean;
  /** Bytes of received messages the app has not taken yet before the socket is paused. */
  readonly receiveWindow: number;
  /** Bytes of sent messages the client has not taken yet before the app's send() waits. */
  readonly sendWindow: number;
  /** The root path of a request the worker's front did not see (its own comes with the request's origin). */
  readonly rootPath: string;
  readonly log: GatewayLog;
  /** The lifespan state; each scope gets a shallow copy. */
  readonly state?: Record<string, unknown> | undefined;
  /** Called once per upgrade request when its connection has closed, with the handshake's status (101 when accepted). */
  readonly onClose?: ((req: IncomingMessage, status: number) => void) | undefined;
  /** Called when a client's message is over maxMessageSize, as its connection closes with 1009. */
  readonly onMessageTooBig?: (() => void) | undefined;
}

// ws (and the zlib and crypto it loads) costs a worker about 5 MiB: loaded by the first
// gateway, so that a worker whose app takes no WebSockets never loads it.
const require = createRequire(import.meta.url);
const loadWs = (): typeof import('ws') => require('ws') as typeof import('ws');

export class WebSocketGateway {
  readonly #options: WebSocketGatewayOptions;
  readonly #server: WebSocketServer;
  readonly #sessions = new Set<WebSocketSession>();
  // What the app answered, read by ws's handshake hooks below while it completes the upgrade.
  readonly #answers = new WeakMap<IncomingMessage, HandshakeAnswer>();
  readonly #context: SessionContext;
  #allClosed: (() => void) | undefined;

  constructor(options: WebSocketGatewayOptions) {
    this.#options = options;
    this.#server = new (loadWs().WebSocketServer)({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxMessageSize,
      perMessageDeflate: options.perMessageDeflate,
      handleProtocols: (_offered, req) => this.#answers.get(req)?.subprotocol ?? false,
    });
    this.#server.on('headers', (headers: string[], req: IncomingMessage) => {
      const extra = this.#answers.get(req)?.headers ?? [];
      for (let i = 0; i + 1 < extra.length; i += 2) headers.push(`${extra[i] ?? ''}: ${extra[i + 1] ?? ''}`);
    });
    this.#context = {
      log: options.log,
      receiveWindow: options.receiveWindow,
      sendWindow: options.sendWindow,
      pingIntervalMs: options.pingIntervalMs,
      pingTimeoutMs: options.pingTimeoutMs,
      perMessageDeflate: options.perMessageDeflate,
      onMessageTooBig: options.onMessageTooBig,
      upgrade: (req, socket, head, answer) => this.#upgrade(req, socket, head, answer),
    };
  }

  get open(): number {
    return this.#sessions.size;
  }

  /** Runs the app for one HTTP upgrade request (from http.Server 'upgrade'); never throws. */
  handle(app: AsgiWebSocketCallable, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const problem = checkUpgradeRequest(req);
    if (problem !== undefined) {
      this.#options.log.debug({ url: req.url, problem: problem.reason }, 'invalid WebSocket upgrade request');
      writePlainResponse(socket, problem.status, problem.headers);
      this.#options.onClose?.(req, problem.status);
      return;
    }
    const origin = requestOrigin(req, this.#options.rootPath);
    const scope = buildWebSocketScope({
      target: req.url ?? '/',
      httpVersion: req.httpVersion,
      rawHeaders: origin.rawHeaders,
      scheme: origin.scheme === 'https' ? 'wss' : 'ws',
      client: origin.client,
      server: origin.server,
      rootPath: origin.rootPath,
      state: this.#options.state,
      tls: tlsExtensionOf(req),
    });
    const session = new WebSocketSession(req, socket, head, scope, this.#context);
    this.#sessions.add(session);
    void session.closed.then(() => {
      this.#sessions.delete(session);
      this.#options.onClose?.(req, session.status);
      this.#checkAllClosed();
    });
    void session.run(app);
  }

  /** Drain: closes every open WebSocket with 1001; after `timeoutMs` the rest are destroyed. */
  async closeAll(timeoutMs: number): Promise<void> {
    for (const session of this.#sessions) session.goAway();
    if (this.#sessions.size === 0) return;
    const allClosed = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
    });
    const deadline = setTimeout(() => {
      this.#options.log.warn({ open: this.#sessions.size }, 'WebSockets still open at the graceful timeout; closing them');
      for (const session of this.#sessions) session.destroy();
    }, timeoutMs);
    await allClosed;
    clearTimeout(deadline);
  }

  #checkAllClosed(): void {
    if (this.#sessions.size === 0) this.#allClosed?.();
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, answer: HandshakeAnswer): WebSocket | undefined {
    this.#answers.set(req, answer);
    let upgraded: WebSocket | undefined;
    // ws completes the handshake synchronously for a request checked as above.
    this.#server.handleUpgrade(req, socket, head, (ws) => {
      upgraded = ws;
    });
    this.#answers.delete(req);
    return upgraded;
  }
}

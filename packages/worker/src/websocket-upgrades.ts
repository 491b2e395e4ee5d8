// The worker's upgrade requests: `Upgrade: websocket` goes to the app through the gateway, with
// an access line when the connection ends; other protocols (h2c) are answered 501. Runs in a
// worker, attached to its HTTP server only when the app host takes WebSockets.
import { WebSocketGateway, lentBytes, requestOrigin, type AsgiWebSocketCallable, type WebSocketGatewayOptions } from '@bicorn/gateway';
import type { Config } from '@bicorn/config';
import type { AccessLog } from '@bicorn/runtime';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { RequestMetrics } from './metrics.js';
import { accessEntry } from './access-entry.js';

export interface WebSocketSetup {
  readonly app: AsgiWebSocketCallable;
  readonly options: Omit<WebSocketGatewayOptions, 'onClose' | 'onMessageTooBig'>;
}

const NOT_IMPLEMENTED = 'HTTP/1.1 501 Not Implemented\r\ncontent-type: text/plain\r\ncontent-length: 29\r\nconnection: close\r\n\r\nonly WebSocket upgrades work\n';

export class WebSocketUpgrades {
  readonly #app: AsgiWebSocketCallable;
  readonly #gateway: WebSocketGateway;
  readonly #started = new WeakMap<IncomingMessage, { at: number; bytes: number }>();
  readonly #rootPath: string;

  constructor(setup: WebSocketSetup, accessLog: AccessLog | undefined, metrics: RequestMetrics) {
    this.#app = setup.app;
    this.#rootPath = setup.options.rootPath;
    this.#gateway = new WebSocketGateway({
      ...setup.options,
      onMessageTooBig: () => {
        metrics.limitRejected('ws-message-size');
      },
      onClose: accessLog === undefined ? undefined : (req, status) => {
        this.#writeAccess(accessLog, req, status);
      },
    });
  }

  get open(): number {
    return this.#gateway.open;
  }

  /** Returns false for an upgrade to anything but WebSocket, which it has answered. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end(NOT_IMPLEMENTED);
      return false;
    }
    this.#started.set(req, { at: performance.now(), bytes: bytesWritten(socket) });
    this.#gateway.handle(this.#app, req, socket, head);
    return true;
  }

  closeAll(timeoutMs: number): Promise<void> {
    return this.#gateway.closeAll(timeoutMs);
  }

  #writeAccess(accessLog: AccessLog, req: IncomingMessage, status: number): void {
    const started = this.#started.get(req);
    accessLog.write(
      accessEntry(req, requestOrigin(req, this.#rootPath), {
        status,
        bytes: bytesWritten(req.socket) - (started?.bytes ?? 0),
        durationMs: started === undefined ? 0 : performance.now() - started.at,
      }),
    );
  }
}

/** The largest WebSocket message a client may send: ws_max_size, or limit_request_body if lower. */
export function websocketMessageLimit(config: Pick<Config, 'ws_max_size' | 'limit_request_body'>): number {
  return Math.min(config.ws_max_size, config.limit_request_body ?? Number.POSITIVE_INFINITY);
}

/** The bytes written to the client, by node or by the Python process the socket was lent to. */
function bytesWritten(socket: Duplex): number {
  if (!(socket instanceof Socket)) return 0;
  return socket.bytesWritten + lentBytes(socket);
}

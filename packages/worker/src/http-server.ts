// The worker's HTTP server: serves connections the master hands over, counts requests in
// flight, writes access lines, and drains on stop. Runs in a worker.
import type { StopMode } from '@bicorn/protocol';
import type { AccessLog, Logger } from '@bicorn/runtime';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocketUpgrades, type WebSocketSetup } from './websocket-upgrades.js';

export interface WorkerServerOptions {
  readonly keepAliveMs: number;
  /** Ends a request on which nothing has moved for this long before its response is complete; 0: never. */
  readonly requestTimeoutMs: number;
  /** Called after a request timed out and its client got a 504 (or, once the response began, a cut). */
  readonly onRequestTimeout: (req: IncomingMessage, responseStarted: boolean) => void;
  /** Called as each request arrives, before the app sees it. */
  readonly onRequest: () => void;
  readonly log: Logger;
  readonly accessLog: AccessLog | undefined;
  /** Whether a request was answered from a static directory rather than by the app. */
  readonly staticResponse: (req: IncomingMessage) => boolean;
  /** Without it, node serves upgrade requests as plain requests, and the app answers them. */
  readonly websocket: WebSocketSetup | undefined;
}

interface Connection {
  /** Handed to the WebSocket gateway, which closes it on drain. */
  upgraded: boolean;
  /** Tells the master the connection was taken, once: after its first request, or soon. */
  acknowledge: (() => void) | undefined;
  /** Responses under way on this connection (more than one when requests are pipelined). */
  busy: number;
  /** Responses finished; a connection that has served none may still carry its first request. */
  served: number;
}

/**
 * On a graceful stop, how long an idle keep-alive connection stays open in case a request is
 * already on its way: a client reusing the connection at that moment would otherwise see it
 * reset. A request that comes gets its answer with `Connection: close`.
 */
const IDLE_DRAIN_GRACE_MS = 1_000;
/**
 * How long the acknowledgement of a connection waits for its first request, whose admission
 * the load it reports then includes. A client sends its request at once; the master has handed
 * this worker nothing else meanwhile.
 */
const ACKNOWLEDGE_WAIT_MS = 10;
const GATEWAY_TIMEOUT = 'HTTP/1.1 504 Gateway Timeout\r\ncontent-type: text/plain\r\ncontent-length: 16\r\nconnection: close\r\n\r\nGateway Timeout\n';

export class WorkerServer {
  readonly #server;
  readonly #connections = new Map<Socket, Connection>();
  readonly #responses = new Set<ServerResponse>();
  readonly #options: WorkerServerOptions;
  readonly #upgrades: WebSocketUpgrades | undefined;
  #drained: (() => void) | undefined;

  constructor(listener: RequestListener, options: WorkerServerOptions) {
    this.#options = options;
    this.#server = createServer();
    this.#server.keepAliveTimeout = options.keepAliveMs;
    this.#server.on('connection', (socket: Socket) => {
      this.#connections.set(socket, { upgraded: false, acknowledge: undefined, busy: 0, served: 0 });
      socket.once('close', () => {
        this.#acknowledge(socket);
        this.#connections.delete(socket);
        this.#checkDrained();
      });
    });
    // Tracked before the app sees the request, so that draining can still mark the response.
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      options.onRequest();
      this.#track(req, res);
      listener(req, res);
      this.#acknowledge(req.socket);
    });
    if (options.websocket !== undefined) {
      const upgrades = new WebSocketUpgrades(options.websocket, options.accessLog);
      this.#upgrades = upgrades;
      this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (this.#drained !== undefined) {
          socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
          return;
        }
        const connection = this.#connections.get(req.socket);
        if (upgrades.handle(req, socket, head) && connection !== undefined) connection.upgraded = true;
        this.#acknowledge(req.socket);
      });
    }
    // The server never listens itself: connections arrive from the master. 'listening'
    // starts node's own header and request timeout checks (slow-loris protection).
    this.#server.emit('listening');
  }

  /** Requests under way and open WebSockets. */
  get inFlight(): number {
    return this.#responses.size + (this.#upgrades?.open ?? 0);
  }

  /** Serves a connection from the master; `acknowledge` runs once its first request was admitted, or soon. */
  accept(socket: Socket, acknowledge: () => void): void {
    this.#server.emit('connection', socket);
    const connection = this.#connections.get(socket);
    if (connection === undefined) {
      acknowledge();
      return;
    }
    const timer = setTimeout(() => {
      this.#acknowledge(socket);
    }, ACKNOWLEDGE_WAIT_MS);
    connection.acknowledge = () => {
      clearTimeout(timer);
      acknowledge();
    };
  }

  #acknowledge(socket: Socket): void {
    const connection = this.#connections.get(socket);
    const acknowledge = connection?.acknowledge;
    if (connection === undefined || acknowledge === undefined) return;
    connection.acknowledge = undefined;
    acknowledge();
  }

  /**
   * Graceful: idle keep-alive connections close after a grace of up to IDLE_DRAIN_GRACE_MS,
   * busy ones after their response, and new ones after their first request (or after
   * keep_alive if none comes); WebSockets get close 1001. Resolves once every connection is
   * closed, or at the deadline with the rest destroyed. Fast: now.
   */
  async drain(mode: StopMode, timeoutMs: number): Promise<void> {
    if (mode === 'fast') {
      this.#destroyAll();
      return;
    }
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    for (const res of this.#responses) closeAfter(res);
    // Connections that get a request meanwhile close after its response. A new connection
    // gets keep_alive to send its first request, an idle one a moment.
    const idleConnections = setTimeout(() => {
      this.#closeIdle(true);
    }, Math.min(IDLE_DRAIN_GRACE_MS, this.#options.keepAliveMs, timeoutMs));
    const silentNewcomers = setTimeout(() => {
      this.#closeIdle(false);
    }, Math.min(this.#options.keepAliveMs, timeoutMs));
    const deadline = setTimeout(() => {
      this.#options.log.warn({ inFlight: this.#responses.size, connections: this.#connections.size }, 'requests still running at the graceful timeout; closing them');
      this.#destroyAll();
    }, timeoutMs);
    this.#checkDrained();
    // The gateway destroys what is left of its WebSockets at the same deadline.
    await Promise.all([drained, this.#upgrades?.closeAll(timeoutMs)]);
    clearTimeout(idleConnections);
    clearTimeout(silentNewcomers);
    clearTimeout(deadline);
  }

  /** Closes the connections with no response under way: those that have served one, or all. */
  #closeIdle(onlyServed: boolean): void {
    for (const [socket, connection] of this.#connections) {
      if (connection.busy === 0 && !connection.upgraded && (!onlyServed || connection.served > 0)) socket.destroy();
    }
  }

  #track(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const connection = this.#connections.get(socket);
    if (connection !== undefined) connection.busy++;
    this.#responses.add(res);
    if (this.#drained !== undefined) closeAfter(res);
    const accessLog = this.#options.accessLog;
    const started = accessLog === undefined ? 0 : performance.now();
    const bytesBefore = accessLog === undefined ? 0 : socket.bytesWritten;
    const timeoutMs = this.#options.requestTimeoutMs;
    const progress = timeoutMs > 0 ? this.#watchProgress(req, res, timeoutMs) : undefined;
    res.on('close', () => {
      clearTimeout(progress);
      this.#responses.delete(res);
      if (connection !== undefined) {
        connection.busy--;
        connection.served++;
      }
      accessLog?.write({
        remote: `${socket.remoteAddress ?? '-'}:${String(socket.remotePort ?? '-')}`,
        method: req.method ?? '-',
        path: req.url ?? '-',
        httpVersion: req.httpVersion,
        status: res.statusCode,
        bytes: socket.bytesWritten - bytesBefore,
        durationMs: performance.now() - started,
        static: this.#options.staticResponse(req),
      });
    });
  }

  /**
   * The request timeout: checked every `timeoutMs`, it ends the exchange when no byte has moved
   * either way on the connection since the last check. So a hung app is ended, a slow upload or
   * a long stream that keeps moving is not, and a client that stops reading is cut as nginx's
   * send_timeout does. The caller clears the timer when the response closes.
   */
  #watchProgress(req: IncomingMessage, res: ServerResponse, timeoutMs: number): NodeJS.Timeout {
    const socket = req.socket;
    let moved = socket.bytesRead + socket.bytesWritten;
    const check = (): void => {
      const now = socket.bytesRead + socket.bytesWritten;
      if (now !== moved) {
        moved = now;
        timer.refresh();
        return;
      }
      const started = res.headersSent;
      this.#options.log.error({ method: req.method, path: req.url, timeoutS: timeoutMs / 1000, responseStarted: started }, started ? 'request timed out mid-response; cutting the connection' : 'request timed out; answering 504');
      // Written on the socket itself, so that every host sees the client leave (it stops the
      // app's stream) and nothing the app sends later reaches the wire.
      if (started || res.socket !== socket) socket.destroy();
      else socket.end(GATEWAY_TIMEOUT, () => socket.destroy());
      this.#options.onRequestTimeout(req, started);
    };
    const timer = setTimeout(check, timeoutMs);
    return timer;
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#connections.size === 0) this.#drained();
  }

  #destroyAll(): void {
    for (const socket of this.#connections.keys()) socket.destroy();
    this.#drained?.();
  }
}

/** Makes the connection close once this response is done. */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  res.shouldKeepAlive = false;
}

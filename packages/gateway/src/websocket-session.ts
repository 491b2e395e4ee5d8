// One WebSocket from upgrade request to close: runs the app with receive/send (and a relay's
// message port), completes or refuses the handshake as the app says, relays messages with
// backpressure both ways, pings, and settles the connection however the app ends; or, for a
// relay that asks, hands the accepted connection over to the app's process, which runs it on
// the socket itself. Runs in the worker, per connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { ClientDisconnected } from './client-disconnected.js';
import { failResponse } from './fail-response.js';
import { denialResponse, writePlainResponse } from './handshake-response.js';
import type { GatewayLog } from './log.js';
import { waitForDrain } from './wait-for-drain.js';
import { parseWebSocketEvent, type WebSocketSendAction } from './websocket-events.js';
import { acceptHead, CLOSE_1011, handOverSocket, stopReading } from './websocket-handover.js';
import { WebSocketInbox } from './websocket-inbox.js';
import { startPings } from './websocket-pings.js';
import { advanceWebSocket, type WebSocketPhase } from './websocket-order.js';
import { OPEN, type AsgiWebSocketCallable, type HandOverTaker, type WebSocketMessagePort, type WebSocketScope } from './websocket-types.js';
import { applyWireRules, dropHopByHop } from './wire-rules.js';

export interface HandshakeAnswer {
  readonly subprotocol: string | null;
  readonly headers: readonly string[];
}

export interface SessionContext {
  readonly log: GatewayLog;
  readonly receiveWindow: number;
  readonly sendWindow: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  /** Whether ws offers per-message compression (a connection that may agree on it is not handed over). */
  readonly perMessageDeflate: boolean;
  /** A client sent a message over maxMessageSize (closed with 1009). */
  readonly onMessageTooBig: (() => void) | undefined;
  /** Completes the handshake; undefined when ws refused the request (it has answered the client). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, answer: HandshakeAnswer): WebSocket | undefined;
}

// Why ws failed a connection, as the close code it sent; the app sees that code.
const ERROR_CLOSE_CODES: Readonly<Record<string, number>> = { WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009, WS_ERR_INVALID_UTF8: 1007 };
const GONE = 'the WebSocket connection is closed';
/** What send() returns for an event done at once. */
const SENT: Promise<void> = Promise.resolve();

export class WebSocketSession {
  readonly closed: Promise<void>;
  readonly #req: IncomingMessage;
  readonly #socket: Duplex;
  readonly #head: Buffer;
  readonly #scope: WebSocketScope;
  readonly #context: SessionContext;
  readonly #inbox: WebSocketInbox;
  #phase: WebSocketPhase = 'handshake';
  #ws: WebSocket | undefined;
  #denialStart: { status: number; headers: string[] } | undefined;
  #denial: ServerResponse | undefined;
  #goingAway = false;
  #errorCode: number | undefined;
  #violation: Error | undefined;
  /** A relay's taker of client messages (WebSocketMessagePort.takeMessages), offered each before the inbox. */
  #take: ((data: Buffer, text: boolean) => boolean) | undefined;
  /** Who the app's accept hands the connection over to (WebSocketMessagePort.handOver), until it does. */
  #taker: HandOverTaker | undefined;
  /** Who runs the connection, once handed over: the gateway neither reads nor writes its socket then. */
  #handedTo: HandOverTaker | undefined;
  #stopPings: () => void = () => undefined;
  #markClosed: () => void = () => undefined;
  /** The handshake's HTTP status for the access log: 101 once accepted; 499 if the client left first. */
  status = 499;

  constructor(req: IncomingMessage, socket: Duplex, head: Buffer, scope: WebSocketScope, context: SessionContext) {
    this.#req = req;
    this.#socket = socket;
    this.#head = head;
    this.#scope = scope;
    this.#context = context;
    this.#inbox = new WebSocketInbox(context.receiveWindow, {
      pause: () => {
        context.log.debug({ path: scope.path, receiveWindow: context.receiveWindow }, 'WebSocket receive window full: reading paused until the app takes its messages');
        this.#ws?.pause();
      },
      resume: () => this.#ws?.resume(),
    });
    this.closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    socket.on('error', (error) => {
      context.log.debug({ err: error, path: scope.path }, 'WebSocket socket error');
    });
    socket.once('close', () => {
      // Once upgraded, ws reports the close with the client's code.
      if (this.#ws !== undefined) return;
      this.#inbox.end(1006, '');
      this.#markClosed();
    });
  }

  async run(app: AsgiWebSocketCallable): Promise<void> {
    try {
      await app(this.#scope, this.#inbox.receive, this.send, this.#port);
    } catch (error) {
      this.#appFailed(error);
      return;
    }
    this.#appReturned();
  }

  // Not an async function: a message within the send window is written at once, and the
  // app's await of one shared settled promise costs less than a promise made per message.
  readonly send = (event: unknown): Promise<void> => {
    try {
      return this.#perform(parseWebSocketEvent(event)) ?? SENT;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  readonly #port: WebSocketMessagePort = {
    sendMessage: (data, text) => this.#perform({ kind: 'send', data, binary: !text }),
    takeMessages: (take) => {
      this.#take = take;
    },
    socketToHandOver: () => handOverSocket(this.#req, this.#socket, this.#context.perMessageDeflate),
    handOver: (taker) => {
      this.#taker = taker;
      return {
        over: (code) => {
          this.#handedOverClosed(code);
        },
        fail: () => {
          this.#handedOverFailed();
        },
      };
    },
  };

  /** Checks the order and acts; a promise when it has to wait (a full socket, a denial's body), else undefined. */
  #perform(action: WebSocketSendAction): Promise<void> | undefined {
    if (this.#phase !== 'closed' && this.#connectionOver()) throw new ClientDisconnected(GONE);
    if (action.kind === 'accept') this.#checkSubprotocol(action.subprotocol);
    const verdict = advanceWebSocket(this.#phase, action);
    if (!verdict.ok) {
      const error = new Error(`ASGI event order violated: ${verdict.rule}`);
      this.#violation = error;
      this.#context.log.error({ rule: verdict.rule, path: this.#scope.path }, 'ASGI app broke the WebSocket event order');
      this.#fail();
      throw error;
    }
    this.#phase = verdict.phase;
    return this.#act(action);
  }

  /** Drain: an open WebSocket gets close 1001, a pending handshake a 503; a denial finishes. */
  goAway(): void {
    if (this.#goingAway) return;
    this.#goingAway = true;
    if (this.#phase === 'handshake') {
      this.#respond(503);
      this.#inbox.end(1001, '');
    } else if (this.#ws?.readyState === OPEN) {
      this.#ws.close(1001, 'server shutting down');
    } else {
      this.#handedTo?.goAway();
    }
  }

  destroy(): void {
    if (this.#ws === undefined) this.#socket.destroy();
    else this.#ws.terminate();
  }

  #act(action: WebSocketSendAction): Promise<void> | undefined {
    switch (action.kind) {
      case 'accept':
        this.#accept(action.subprotocol, action.headers);
        return undefined;
      case 'send':
        return this.#sendMessage(action.data, action.binary);
      case 'close':
        if (this.#ws === undefined) {
          this.#respond(403);
          this.#inbox.end(1006, '');
        } else {
          this.#ws.close(action.code, action.reason);
        }
        return undefined;
      case 'deny-start':
        this.#denialStart = { status: action.start.status, headers: action.start.headers };
        return undefined;
      case 'deny-body':
        return this.#denialBody(action.body.body, action.body.more);
    }
  }

  #checkSubprotocol(subprotocol: string | null): void {
    const offered = this.#scope.subprotocols;
    if (subprotocol === null || offered.includes(subprotocol)) return;
    const list = offered.length === 0 ? 'none' : offered.map((p) => JSON.stringify(p)).join(', ');
    throw new TypeError(`websocket.accept: subprotocol ${JSON.stringify(subprotocol)} is not one the client offered (it offered ${list})`);
  }

  #accept(subprotocol: string | null, headers: string[]): void {
    const dropped = dropHopByHop(headers, false);
    // The 101 belongs to the handshake, which ends the HTTP connection: close closes nothing.
    if (dropped !== undefined) this.#context.log.debug({ dropped: dropped.dropped, path: this.#scope.path }, 'hop-by-hop headers from the app dropped');
    const taker = this.#taker;
    this.#taker = undefined;
    if (taker !== undefined) {
      if (this.#handOver(taker, subprotocol, headers)) return;
      taker.taken(undefined);
    }
    const ws = this.#context.upgrade(this.#req, this.#socket, this.#head, { subprotocol, headers });
    if (ws === undefined) {
      this.#inbox.end(1006, '');
      throw new ClientDisconnected('the client sent an invalid WebSocket handshake');
    }
    this.#ws = ws;
    this.status = 101;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = asBuffer(data);
      if (this.#take?.(bytes, !isBinary) === true) return;
      this.#inbox.push(isBinary ? { type: 'websocket.receive', bytes } : { type: 'websocket.receive', text: bytes.toString('utf8') }, bytes.length);
    });
    ws.on('error', (error: Error & { code?: string }) => {
      this.#errorCode = ERROR_CLOSE_CODES[error.code ?? ''] ?? 1002;
      if (this.#errorCode === 1009) this.#context.onMessageTooBig?.();
      this.#context.log.debug({ err: error, path: this.#scope.path }, 'WebSocket closed for a protocol error');
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.#stopPings();
      this.#inbox.end(this.#errorCode ?? code, reason.toString('utf8'));
      this.#markClosed();
    });
    const { pingIntervalMs, pingTimeoutMs, log } = this.#context;
    this.#stopPings = startPings(ws, { intervalMs: pingIntervalMs, timeoutMs: pingTimeoutMs, log, path: this.#scope.path });
  }

  /**
   * Accepts the connection for `taker`, which runs it from now on: reading stops, the 101 goes
   * out, and the taker gets the socket once it is in the kernel. False when it cannot be handed
   * over (see stopReading); nothing is changed then.
   */
  #handOver(taker: HandOverTaker, subprotocol: string | null, headers: readonly string[]): boolean {
    const socket = this.#port.socketToHandOver();
    if (socket === undefined || !stopReading(socket, this.#head)) return false;
    this.#handedTo = taker;
    this.status = 101;
    // Header values are the app's bytes as latin1 strings: written back as those bytes.
    socket.write(acceptHead(this.#req, subprotocol, headers), 'latin1', (error) => {
      // A socket that failed closes, which ends the connection (see the constructor).
      taker.taken(error == null ? socket : undefined);
    });
    return true;
  }

  /** The taker closed the connection it ran, with `code`: the gateway's descriptor closes too. */
  #handedOverClosed(code: number): void {
    if (code === 1009) this.#context.onMessageTooBig?.();
    this.#phase = 'closed';
    this.#inbox.end(code, '');
    this.#socket.destroy();
  }

  /** The taker can no longer run the connection: the client gets 1011, and it ends. */
  #handedOverFailed(): void {
    this.#phase = 'closed';
    // The taker's descriptor is closed (its process is gone): closing this one ends the
    // connection, after what the kernel took of the close frame.
    if (this.#socket.destroyed) return;
    this.#socket.write(CLOSE_1011);
    this.#socket.destroy();
  }

  /**
   * Within the window a send() resolves at once; past it, only once its message (and so every
   * one before it) is written, so a client that does not read holds the app to the window. The
   * promise is made only then: most messages never need one.
   */
  #sendMessage(data: Buffer | string, binary: boolean): Promise<void> | undefined {
    const ws = this.#ws;
    if (ws?.readyState !== OPEN) throw new ClientDisconnected(GONE);
    // node passes null for a write that succeeded (ws's types say undefined).
    let outcome: Error | null | undefined;
    let settle: ((error: Error | null | undefined) => void) | undefined;
    ws.send(data, { binary }, (error) => {
      outcome = error instanceof Error ? error : null;
      settle?.(outcome);
    });
    if (ws.bufferedAmount <= this.#context.sendWindow || outcome === null) return undefined;
    if (outcome !== undefined) throw new ClientDisconnected(GONE);
    return new Promise<void>((resolve, reject) => {
      settle = (error) => {
        if (error instanceof Error) reject(new ClientDisconnected(GONE));
        else resolve();
      };
    });
  }

  async #denialBody(body: Buffer, more: boolean): Promise<void> {
    let res = this.#denial;
    if (res === undefined) {
      const start = this.#denialStart ?? { status: 500, headers: [] };
      res = denialResponse(this.#req, this.#socket);
      this.#denial = res;
      this.status = start.status;
      applyWireRules(res, start.headers, false, this.#context.log);
      res.writeHead(start.status, start.headers);
    }
    if (!more) {
      res.end(body);
      this.#inbox.end(1006, '');
      return;
    }
    if (body.length > 0 && !res.write(body)) {
      await waitForDrain(res);
      if (res.destroyed) throw new ClientDisconnected(GONE);
    }
  }

  #appReturned(): void {
    const log = this.#context.log;
    switch (this.#phase) {
      case 'closed':
        return;
      case 'open':
        this.#phase = 'closed';
        if (this.#ws?.readyState === OPEN) this.#ws.close(1000);
        return;
      case 'handshake':
      case 'denying': {
        const rule = this.#phase === 'handshake' ? 'app returned without accepting, closing or denying the WebSocket' : 'app returned before the final websocket.http.response.body';
        if (this.#connectionOver()) {
          log.debug({ path: this.#scope.path }, 'ASGI WebSocket app returned after the client disconnected');
          this.#phase = 'closed';
          return;
        }
        log.error({ rule, path: this.#scope.path }, 'ASGI app returned without completing the WebSocket handshake');
        this.#fail();
      }
    }
  }

  #appFailed(error: unknown): void {
    if (error === this.#violation) return;
    const log = this.#context.log;
    if (error instanceof ClientDisconnected) {
      log.debug({ err: error, path: this.#scope.path }, 'ASGI WebSocket app stopped: the client disconnected');
      return;
    }
    log.error({ err: error, path: this.#scope.path }, 'exception in ASGI WebSocket app');
    this.#fail();
  }

  /** A 500 before the handshake is answered, a cut connection mid-denial, close 1011 once open. */
  #fail(): void {
    const phase = this.#phase;
    this.#phase = 'closed';
    if (this.#denial !== undefined) {
      failResponse(this.#denial);
    } else if (this.#ws !== undefined) {
      if (this.#ws.readyState === OPEN) this.#ws.close(1011);
    } else if (phase !== 'closed') {
      this.#respond(500);
      this.#inbox.end(1006, '');
    }
  }

  #respond(status: number): void {
    this.status = status;
    writePlainResponse(this.#socket, status);
  }

  // Read through a method: the state changes while send() awaits.
  #connectionOver(): boolean {
    if (this.#inbox.ended || this.#goingAway) return true;
    return this.#ws !== undefined && this.#ws.readyState !== OPEN;
  }
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

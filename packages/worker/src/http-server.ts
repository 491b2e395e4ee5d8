// The worker's HTTP server: serves connections the master hands over (after their PROXY
// protocol header, when asked), admits or refuses each request before the app host sees it
// (request-gate.ts), counts requests in flight, writes access lines and counts each request's
// end for the metrics, and drains on stop; HTTP/2 streams (http2-sessions.ts) take the same
// path per stream. Runs in a worker.
import { lentBytes, lentReadBytes, setRequestOrigin, type RequestOrigin } from '@bicorn/gateway';
import type { StopMode } from '@bicorn/protocol';
import type { AccessLog, Logger } from '@bicorn/runtime';
import { IdTable } from '@bicorn/runtime/id-table';
import { createServer, STATUS_CODES, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { accessEntry, socketOrigin } from './access-entry.js';
import { sniffPreface } from './h2c-preface.js';
import type { Http2Options, Http2Sessions } from './http2-sessions.js';
import type { ForwardingPolicy } from './forwarded.js';
import { FrontRequest, type BodyWatch } from './front-request.js';
import { frontResponseClass } from './front-response.js';
import { lingerOnClose, lingeringClose } from './lingering-close.js';
import type { RequestMetrics } from './metrics.js';
import { isDisconnect, parseErrorRefusal } from './parse-errors.js';
import type { PeerTrust } from './peer-trust.js';
import { presentAsClient, readProxyHeader } from './proxy-intake.js';
import type { ProxyProtocolMode, ProxySource } from './proxy-protocol.js';
import { answerRefusal, limitOf, unavailable, writeRefusal } from './refusal.js';
import { admit, admitStream, type GateOptions } from './request-gate.js';
import { checkTrailers, headCap, type HeaderField, type Refusal, type RequestLimits } from './request-rules.js';
import type { TlsFront } from './tls-front.js';
import { RequestTimeouts } from './request-timeouts.js';
import type { StreamRequest, StreamResponse } from './stream-exchange.js';
import { WebSocketUpgrades, type WebSocketSetup } from './websocket-upgrades.js';

/** What the front checks and adds, for every interface alike. */
export interface FrontOptions {
  readonly limits: RequestLimits;
  /** header_timeout; 0: none. */
  readonly headerTimeoutMs: number;
  /** limit_concurrency; null: none. */
  readonly concurrency: number | null;
  readonly forwarding: ForwardingPolicy;
  readonly rootPath: string;
  /** Set when connections start with a PROXY protocol header. */
  readonly proxyProtocol: { readonly mode: ProxyProtocolMode; readonly allowed: PeerTrust } | undefined;
  /** Headers added to every response that does not set them (Server, --header). */
  readonly responseHeaders: readonly HeaderField[];
  readonly dateHeader: boolean;
  /** Set with certfile: the listeners that serve TLS, and how. */
  readonly tls: TlsFront | undefined;
  /** Set when HTTP/2 is served (by ALPN, or in cleartext to clients that start with its preface). */
  readonly http2: Http2Front | undefined;
}

/** HTTP/2's settings, and its sessions' class: loaded by the boot only when HTTP/2 is served, as node:http2 and node:tls hold about 1.2 MiB. */
export interface Http2Front {
  readonly options: Http2Options;
  readonly Sessions: typeof Http2Sessions;
}

export interface WorkerServerOptions {
  readonly keepAliveMs: number;
  /** Ends a request on which nothing has moved for this long before its response is complete; 0: never. */
  readonly requestTimeoutMs: number;
  /** Called after a request timed out and its client got a 504 (or, once the response began, a cut). */
  readonly onRequestTimeout: (req: IncomingMessage, responseStarted: boolean) => void;
  /** Called as each admitted request arrives, before the app sees it. */
  readonly onRequest: () => void;
  readonly log: Logger;
  readonly accessLog: AccessLog | undefined;
  /** Whether a request was answered from a static directory rather than by the app. */
  readonly staticResponse: (req: IncomingMessage) => boolean;
  /** Told of every request's end (and, through the WebSocket setup, of messages over ws_max_size). */
  readonly metrics: RequestMetrics;
  /** Without it, node serves upgrade requests as plain requests, and the app answers them. */
  readonly websocket: WebSocketSetup | undefined;
  readonly front: FrontOptions;
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
  /** The front refused a request on it: it closes after that answer, and what follows is dropped. */
  closing: boolean;
  /** The response of the request node is parsing, while it is the only one under way. */
  current: ServerResponse | undefined;
  /** Bytes read from the socket that earlier requests accounted for. */
  bytesCounted: number;
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
const NOT_A_PROXY: Refusal = { status: 501, reason: 'CONNECT: this server is not a proxy' };

export class WorkerServer {
  readonly #server;
  // The open connections by a number of the table's, each one's state by its socket: not a
  // Map, which a connection each churns into garbage that survives the young generation's
  // collections (@bicorn/runtime/id-table), as clients that close after each request do.
  readonly #connections = new IdTable<Socket>();
  readonly #connectionOf = new WeakMap<Socket, Connection>();
  // By a number of the table's, not in a Set: an entry per request churns a Set into garbage
  // that survives the young generation's collections (@bicorn/runtime/id-table).
  readonly #responses = new IdTable<ServerResponse>();
  /** The status of responses the front refused on the socket itself, for their access line. */
  readonly #refusedMidBody = new WeakMap<ServerResponse, number>();
  readonly #listener: RequestListener;
  readonly #options: WorkerServerOptions;
  readonly #gate: GateOptions;
  readonly #upgrades: WebSocketUpgrades | undefined;
  readonly #timeouts: RequestTimeouts<IncomingMessage, ServerResponse> | undefined;
  readonly #sessions: Http2Sessions | undefined;
  readonly #streamTimeouts: RequestTimeouts<StreamRequest, StreamResponse> | undefined;
  #drained: (() => void) | undefined;

  constructor(listener: RequestListener, options: WorkerServerOptions) {
    this.#listener = listener;
    this.#options = options;
    const front = options.front;
    if (options.requestTimeoutMs > 0) {
      this.#timeouts = new RequestTimeouts(options.requestTimeoutMs, movedOnConnection, (req, res) => {
        this.#timedOut(req, res);
      });
      if (front.http2 !== undefined) {
        this.#streamTimeouts = new RequestTimeouts(options.requestTimeoutMs, movedOnStream, (req, res) => {
          this.#streamTimedOut(req, res);
        });
      }
    }
    if (front.http2 !== undefined) {
      this.#sessions = new front.http2.Sessions({
        http2: front.http2.options,
        keepAliveMs: options.keepAliveMs,
        responseHeaders: front.responseHeaders,
        dateHeader: front.dateHeader,
        onStream: (req, res, socket, expectsContinue) => {
          this.#onStream(req, res, socket, expectsContinue);
        },
        onClosed: () => {
          this.#checkDrained();
        },
      });
    }
    this.#gate = { limits: front.limits, forwarding: front.forwarding, rootPath: front.rootPath };
    this.#server = createServer({
      IncomingMessage: FrontRequest,
      ServerResponse: frontResponseClass<FrontRequest>(front.responseHeaders, front.dateHeader),
      maxHeaderSize: headCap(front.limits),
      // The front's own Host rule answers instead, the same for every interface.
      requireHostHeader: false,
      // node's would cut an upload still moving at 300 s; the request timeout is about
      // progress (request-timeouts.ts), the head's is header_timeout.
      requestTimeout: 0,
      headersTimeout: front.headerTimeoutMs,
      connectionsCheckingInterval: checkingInterval(front.headerTimeoutMs),
      keepAliveTimeout: options.keepAliveMs,
    });
    // node drops the fields past maxHeadersCount without a word: one more than the limit
    // shows the front that there are too many (0: none dropped).
    this.#server.maxHeadersCount = front.limits.fields > 0 ? front.limits.fields + 1 : 0;
    // A client that half-closes after its request still gets its answer (node would end the
    // connection at its FIN); the connection then closes after that response.
    Object.assign(this.#server, { httpAllowHalfOpen: true });
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#onRequest(req, res, false);
      this.#acknowledge(req.socket);
    });
    this.#server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      this.#onRequest(req, res, true);
      this.#acknowledge(req.socket);
    });
    this.#server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      this.#track(req, res, admit(req, this.#gate).origin);
      this.#refuse(req, res, { status: 417, reason: `Expect: ${req.headers.expect ?? ''}` });
    });
    this.#server.on('clientError', (error: Error, socket: Duplex) => {
      this.#onClientError(error, socket);
    });
    this.#server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      this.#refuseUpgrade(req, socket, admit(req, this.#gate).origin, NOT_A_PROXY);
    });
    if (options.websocket !== undefined) {
      const upgrades = new WebSocketUpgrades(options.websocket, options.accessLog, options.metrics);
      this.#upgrades = upgrades;
      this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.#onUpgrade(upgrades, req, socket, head);
        this.#acknowledge(req.socket);
      });
    }
    // The server never listens itself: connections arrive from the master. 'listening'
    // starts node's header timeout checks (slow-loris protection).
    this.#server.emit('listening');
  }

  /** Requests (and HTTP/2 streams) under way and open WebSockets. */
  get inFlight(): number {
    return this.#responses.size + this.webSockets;
  }

  get webSockets(): number {
    return this.#upgrades?.open ?? 0;
  }

  /**
   * Takes a connection of listener `listener`: its PROXY header first, then TLS, then HTTP.
   * `acknowledge` runs once its first request was admitted, or soon.
   */
  accept(socket: Socket, listener: number, acknowledge: () => void): void {
    // Soon, whatever becomes of the connection: a PROXY header or a TLS handshake that fails
    // never reaches #serve, and the master waits for this before its next connection here.
    let timer: NodeJS.Timeout | undefined;
    const once = (): void => {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      acknowledge();
    };
    timer = setTimeout(once, ACKNOWLEDGE_WAIT_MS);
    socket.once('close', once);
    this.#admit(socket, listener, once);
  }

  #admit(socket: Socket, listener: number, acknowledge: () => void): void {
    const front = this.#options.front;
    const tls = front.tls?.listeners.has(listener) === true ? front.tls : undefined;
    const proxy = front.proxyProtocol;
    if (proxy === undefined) {
      this.#secure(socket, tls, undefined, acknowledge);
      return;
    }
    const allowed = proxy.allowed.trusts(socket.remoteAddress);
    void readProxyHeader(socket, { mode: proxy.mode, allowed, timeoutMs: front.headerTimeoutMs }).then((intake) => {
      if (socket.destroyed) return;
      if (intake.kind === 'refuse') {
        this.#options.log.warn({ peer: socket.remoteAddress ?? 'unix socket', reason: intake.reason }, 'PROXY protocol: connection closed');
        socket.destroy();
        return;
      }
      this.#secure(socket, tls, intake.source, acknowledge);
      socket.resume();
    });
  }

  #secure(raw: Socket, tls: TlsFront | undefined, source: ProxySource | undefined, acknowledge: () => void): void {
    if (tls !== undefined) {
      tls.handshake(raw, (socket) => {
        this.#choose(socket, socket.alpnProtocol === 'h2', source, acknowledge);
      });
      return;
    }
    const http2 = this.#options.front.http2?.options;
    if (http2?.cleartext !== true) {
      // http_protocols h2 alone: no HTTP/1.1, and no h2c without prior-knowledge.
      if (http2?.http1 === false) raw.destroy();
      else this.#serve(raw, source, acknowledge);
      return;
    }
    void sniffPreface(raw, this.#options.front.headerTimeoutMs).then((version) => {
      if (version === 'closed') raw.destroy();
      else this.#choose(raw, version === 'h2', source, acknowledge);
    });
  }

  /** HTTP/2 or HTTP/1.1 on a connection whose version is known; one that http_protocols leaves out is closed. */
  #choose(socket: Socket, h2: boolean, source: ProxySource | undefined, acknowledge: () => void): void {
    const sessions = this.#sessions;
    if (!h2) {
      if (this.#options.front.http2?.options.http1 === false) socket.destroy();
      else this.#serve(socket, source, acknowledge);
      socket.resume();
      return;
    }
    if (sessions === undefined) {
      socket.destroy();
      return;
    }
    if (source !== undefined) presentAsClient(socket, source);
    sessions.serve(socket, acknowledge);
  }

  #serve(socket: Socket, source: ProxySource | undefined, acknowledge: () => void): void {
    if (source !== undefined) presentAsClient(socket, source);
    // Half-open: a client's FIN after its request must not end the socket under the response.
    socket.allowHalfOpen = true;
    lingerOnClose(socket);
    const connection: Connection = {
      upgraded: false,
      acknowledge,
      busy: 0,
      served: 0,
      closing: false,
      current: undefined,
      bytesCounted: 0,
    };
    const id = this.#connections.add(socket);
    this.#connectionOf.set(socket, connection);
    // A FIN before the response begins only half-closes: the client gets its answer, and node
    // then ends the connection. Once the app is streaming a response it has not ended, a FIN
    // means the client has gone (a FIN cannot say which), as it always did: an app waiting
    // for the disconnect gets one.
    socket.once('end', () => {
      const res = connection.current;
      if (res !== undefined && res.headersSent && !res.writableEnded) socket.destroy();
    });
    socket.once('close', () => {
      this.#acknowledge(socket);
      this.#connections.delete(id);
      this.#connectionOf.delete(socket);
      this.#checkDrained();
    });
    this.#server.emit('connection', socket);
  }

  #acknowledge(socket: Socket): void {
    const connection = this.#connectionOf.get(socket);
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
    for (const res of this.#responses.values()) closeAfter(res);
    // GOAWAY: the streams under way finish, then each session closes.
    this.#sessions?.close();
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

  #onRequest(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void {
    // Behind a refused request, on a connection that closes after its answer: dropped.
    if (this.#connectionOf.get(req.socket)?.closing === true) {
      req.resume();
      return;
    }
    const admission = admit(req, this.#gate);
    // Counted before this request joins those in flight.
    const noCapacity = this.#noCapacity();
    this.#track(req, res, admission.origin);
    if (!admission.ok) {
      this.#refuse(req, res, admission.refusal);
      return;
    }
    if (noCapacity !== undefined) {
      this.#refuse(req, res, noCapacity);
      return;
    }
    setRequestOrigin(req, admission.origin);
    this.#options.onRequest();
    if (admission.chunked && req instanceof FrontRequest) req.watchBody(this.#bodyWatch(req, res));
    // Only once the request passed: a body over the limit gets 413 instead of 100.
    if (expectsContinue) res.writeContinue();
    this.#listener(req, res);
  }

  /** An HTTP/2 stream's request: the same rules, limits and origin as HTTP/1.1's, per stream. */
  #onStream(req: StreamRequest, res: StreamResponse, socket: Socket, expectsContinue: boolean): void {
    const admission = admitStream(req, socket, this.#gate);
    const noCapacity = this.#noCapacity();
    this.#trackStream(req, res, admission.origin);
    const refusal = !admission.ok ? admission.refusal : noCapacity;
    if (refusal !== undefined) {
      this.#refuseStream(req, res, refusal);
      return;
    }
    const view = http1View(req, res);
    setRequestOrigin(view.req, admission.origin);
    this.#options.onRequest();
    const limit = this.#options.front.limits.body;
    if (limit !== null) {
      req.onBody = (received) => {
        if (received > limit) this.#refuseStream(req, res, { status: 413, reason: `a body over limit_request_body (${String(limit)} bytes)` });
      };
    }
    if (expectsContinue) res.writeContinue();
    this.#listener(view.req, view.res);
  }

  /**
   * The front's answer on a stream while nothing of its response was sent (the app's later
   * writes go nowhere), then RST_STREAM NO_ERROR so that a client still sending stops (RFC 9113
   * 8.1); a cut stream once the response has begun. An app that has the request sees its
   * client leave.
   */
  #refuseStream(req: StreamRequest, res: StreamResponse, refusal: Refusal): void {
    req.onBody = undefined;
    this.#options.log.debug({ status: refusal.status, reason: refusal.reason, method: req.method, path: req.url }, 'request refused');
    this.#countLimit(refusal);
    if (res.headersSent) {
      req.cut();
      return;
    }
    this.#refusedMidBody.set(http1View(req, res).res, refusal.status);
    const body = `${STATUS_CODES[refusal.status] ?? 'Error'}\n`;
    const head = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body))];
    for (const [name, value] of refusal.headers ?? []) head.push(name, value);
    res.answerInstead(refusal.status, head, body);
    res.once('finish', () => {
      req.closeAfterAnswer();
    });
  }

  #trackStream(req: StreamRequest, res: StreamResponse, origin: RequestOrigin): void {
    const view = http1View(req, res);
    const id = this.#responses.add(view.res);
    const { accessLog, metrics } = this.#options;
    const started = accessLog !== undefined || metrics.timed ? performance.now() : 0;
    this.#streamTimeouts?.watch(id, req, res);
    res.once('close', () => {
      this.#streamTimeouts?.unwatch(id);
      this.#responses.delete(id);
      const durationMs = started === 0 ? 0 : performance.now() - started;
      const status = this.#refusedMidBody.get(view.res) ?? res.statusCode;
      const fromStatic = this.#options.staticResponse(view.req);
      metrics.requestEnded(req.method, status, durationMs / 1000, req.bodyBytes, res.written, fromStatic);
      accessLog?.write(accessEntry(view.req, origin, { status, bytes: res.written, durationMs, static: fromStatic }));
    });
  }

  /** A stream on which nothing moved for request_timeout: 504 while its response has not begun, else a cut stream. */
  #streamTimedOut(req: StreamRequest, res: StreamResponse): void {
    const started = res.headersSent;
    this.#options.log.error({ method: req.method, path: req.url, timeoutS: this.#options.requestTimeoutMs / 1000, responseStarted: started }, started ? 'request timed out mid-response; cutting the stream' : 'request timed out; answering 504');
    this.#refuseStream(req, res, { status: 504, reason: 'request_timeout' });
    this.#options.metrics.requestTimedOut();
    this.#options.onRequestTimeout(http1View(req, res).req, started);
  }

  #onUpgrade(upgrades: WebSocketUpgrades, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const admission = admit(req, this.#gate);
    const refusal = !admission.ok ? admission.refusal : this.#drained !== undefined ? unavailable('the worker is draining') : this.#noCapacity();
    if (refusal !== undefined) {
      this.#refuseUpgrade(req, socket, admission.origin, refusal);
      return;
    }
    setRequestOrigin(req, admission.origin);
    const connection = this.#connectionOf.get(req.socket);
    if (upgrades.handle(req, socket, head) && connection !== undefined) connection.upgraded = true;
  }

  /** The 503 of limit_concurrency, when this request would pass it. */
  #noCapacity(): Refusal | undefined {
    const limit = this.#options.front.concurrency;
    return limit !== null && this.inFlight >= limit ? unavailable(`limit_concurrency (${String(limit)}) requests in flight`, 'concurrency') : undefined;
  }

  #countLimit(refusal: Refusal): void {
    const kind = limitOf(refusal);
    if (kind !== undefined) this.#options.metrics.limitRejected(kind);
  }

  /** Answers through the response; node then closes the connection (lingering). */
  #refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
    this.#options.log.debug({ status: refusal.status, reason: refusal.reason, method: req.method, path: req.url }, 'request refused');
    this.#countLimit(refusal);
    const connection = this.#connectionOf.get(req.socket);
    if (connection !== undefined) connection.closing = true;
    answerRefusal(res, refusal);
  }

  /** An upgrade (or CONNECT) request has no response object: the answer goes on its socket. */
  #refuseUpgrade(req: IncomingMessage, socket: Duplex, origin: RequestOrigin, refusal: Refusal): void {
    this.#options.log.debug({ status: refusal.status, reason: refusal.reason, method: req.method, path: req.url }, 'request refused');
    this.#countLimit(refusal);
    const connection = this.#connectionOf.get(req.socket);
    if (connection !== undefined) connection.closing = true;
    const started = performance.now();
    const before = req.socket.bytesWritten;
    writeRefusal(socket, refusal, this.#options.front.responseHeaders);
    lingeringClose(req.socket);
    this.#options.accessLog?.write(accessEntry(req, origin, { status: refusal.status, bytes: req.socket.bytesWritten - before, durationMs: performance.now() - started }));
  }

  /** Watches a chunked body for limit_request_body and its trailers. */
  #bodyWatch(req: IncomingMessage, res: ServerResponse): BodyWatch {
    const limits = this.#options.front.limits;
    let left = limits.body ?? Number.POSITIVE_INFINITY;
    return {
      body: (bytes) => {
        left -= bytes;
        return left < 0 ? { status: 413, reason: `a chunked body over limit_request_body (${String(limits.body)} bytes)` } : undefined;
      },
      end: (rawTrailers) => (rawTrailers.length === 0 ? undefined : checkTrailers(rawTrailers, limits)),
      refuse: (refusal) => {
        this.#refuseMidBody(req, res, refusal);
      },
    };
  }

  /**
   * The app has the response, so the refusal goes on the socket itself while nothing of a
   * response is on the wire (else the connection is cut); the app sees its client leave when
   * the connection closes.
   */
  #refuseMidBody(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
    this.#options.log.debug({ status: refusal.status, reason: refusal.reason, method: req.method, path: req.url }, 'request refused mid-body');
    this.#refuseOnSocket(req.socket, res, refusal);
  }

  /** Refuses the request whose response is `res` on the socket itself, or cuts the connection once that is too late. */
  #refuseOnSocket(socket: Socket, res: ServerResponse, refusal: Refusal): void {
    this.#countLimit(refusal);
    const connection = this.#connectionOf.get(socket);
    if (connection === undefined || res.headersSent || connection.busy > 1) {
      socket.destroy();
      return;
    }
    connection.closing = true;
    this.#refusedMidBody.set(res, refusal.status);
    writeRefusal(socket, refusal, this.#options.front.responseHeaders);
    lingeringClose(socket);
  }

  #onClientError(error: Error, socket: Duplex): void {
    const connection = socket instanceof Socket ? this.#connectionOf.get(socket) : undefined;
    const parse = { code: 'code' in error && typeof error.code === 'string' ? error.code : undefined, rawPacket: bufferOf(Reflect.get(error, 'rawPacket')), bytesParsed: numberOf(Reflect.get(error, 'bytesParsed')) };
    // Parse errors on what a lingering connection still receives are expected: it closes anyway.
    if (connection?.closing === true && parse.code?.startsWith('HPE_') === true) return;
    if (!(socket instanceof Socket) || connection === undefined || connection.closing || isDisconnect(parse) || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = parseErrorRefusal(parse);
    this.#options.log.debug({ status: refusal.status, reason: refusal.reason, code: parse.code }, 'request refused');
    // A body that does not parse (a bad chunk, a bad trailer): the request's app may not have answered yet.
    if (connection.busy > 0) {
      if (connection.current === undefined) socket.destroy();
      else this.#refuseOnSocket(socket, connection.current, refusal);
      return;
    }
    connection.closing = true;
    this.#countLimit(refusal);
    const before = socket.bytesWritten;
    writeRefusal(socket, refusal, this.#options.front.responseHeaders);
    lingeringClose(socket);
    this.#options.accessLog?.write(accessEntry(undefined, socketOrigin(socket, this.#gate.rootPath), { status: refusal.status, bytes: socket.bytesWritten - before, durationMs: 0 }));
  }

  /** Closes the connections with no response under way: those that have served one, or all. */
  #closeIdle(onlyServed: boolean): void {
    for (const socket of this.#connections.values()) {
      const connection = this.#connectionOf.get(socket);
      if (connection?.busy === 0 && !connection.upgraded && (!onlyServed || connection.served > 0)) socket.destroy();
    }
  }

  #track(req: IncomingMessage, res: ServerResponse, origin: RequestOrigin): void {
    const socket = req.socket;
    const connection = this.#connectionOf.get(socket);
    if (connection !== undefined) {
      connection.busy++;
      connection.current = connection.busy === 1 ? res : undefined;
    }
    const id = this.#responses.add(res);
    if (this.#drained !== undefined) closeAfter(res);
    const { accessLog, metrics } = this.#options;
    const timed = accessLog !== undefined || metrics.timed;
    const started = timed ? performance.now() : 0;
    const bytesBefore = timed ? socket.bytesWritten + lentBytes(socket) : 0;
    this.#timeouts?.watch(id, req, res);
    res.on('close', () => {
      this.#timeouts?.unwatch(id);
      this.#responses.delete(id);
      if (connection !== undefined) {
        connection.busy--;
        connection.served++;
        if (connection.current === res) connection.current = undefined;
      }
      // Socket byte counts are not free to read (bytesWritten gathers the write queue): only
      // when an access line or the metrics want them.
      const durationMs = timed ? performance.now() - started : 0;
      const bytes = timed ? socket.bytesWritten + lentBytes(socket) - bytesBefore : 0;
      // What the connection read since the last request ended: this one's head and body.
      const read = timed && connection !== undefined ? socket.bytesRead - connection.bytesCounted : 0;
      if (timed && connection !== undefined) connection.bytesCounted = socket.bytesRead;
      const status = this.#refusedMidBody.get(res) ?? res.statusCode;
      const fromStatic = this.#options.staticResponse(req);
      metrics.requestEnded(req.method, status, durationMs / 1000, read, bytes, fromStatic);
      accessLog?.write(accessEntry(req, origin, { status, bytes, durationMs, res, static: fromStatic }));
    });
  }

  /**
   * A request on whose connection nothing moved for request_timeout (request-timeouts.ts): so
   * a hung app is ended, a slow upload or a long stream that keeps moving is not, and a client
   * that stops reading is cut as nginx's send_timeout does.
   */
  #timedOut(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const started = res.headersSent;
    this.#options.log.error({ method: req.method, path: req.url, timeoutS: this.#options.requestTimeoutMs / 1000, responseStarted: started }, started ? 'request timed out mid-response; cutting the connection' : 'request timed out; answering 504');
    // Written on the socket itself, so that every host sees the client leave (it stops the
    // app's stream) and nothing the app sends later reaches the wire.
    if (started || res.socket !== socket) socket.destroy();
    else socket.end(GATEWAY_TIMEOUT, () => socket.destroy());
    this.#options.metrics.requestTimedOut();
    this.#options.onRequestTimeout(req, started);
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#connections.size === 0 && (this.#sessions?.size ?? 0) === 0) this.#drained();
  }

  #destroyAll(): void {
    for (const socket of this.#connections.values()) socket.destroy();
    this.#sessions?.destroy();
    this.#drained?.();
  }
}

/** Makes the connection close once this response is done (an HTTP/2 session closes by GOAWAY instead). */
function closeAfter(res: ServerResponse): void {
  if (res.req.httpVersionMajor !== 1) return;
  if (!res.headersSent) res.setHeader('connection', 'close');
  res.shouldKeepAlive = false;
}

function movedOnConnection(req: IncomingMessage): number {
  return req.socket.bytesRead + req.socket.bytesWritten + lentBytes(req.socket) + lentReadBytes(req.socket);
}

/** A stream's own bytes either way, and its head once sent. */
function movedOnStream(req: StreamRequest, res: StreamResponse): number {
  return req.bodyBytes + res.written + (res.headersSent ? 1 : 0);
}

/** How often node checks heads for header_timeout: its precision. */
function checkingInterval(headerTimeoutMs: number): number {
  return headerTimeoutMs > 0 ? Math.max(100, Math.min(1_000, headerTimeoutMs / 4)) : 30_000;
}

function bufferOf(value: unknown): Buffer | undefined {
  return value instanceof Buffer ? value : undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/**
 * The stream's request and response as node:http's, which every app host takes. node:http2's
 * compatibility objects have the members the hosts use (the gateway tells the versions apart by
 * httpVersionMajor where they differ: no `Connection`, no socket of their own to reset), and a
 * Node request listener gets HTTP/2 only when asked for (http_protocols h2).
 */
function http1View(req: StreamRequest, res: StreamResponse): { req: IncomingMessage; res: ServerResponse } {
  return { req: req as unknown as IncomingMessage, res: res as unknown as ServerResponse };
}

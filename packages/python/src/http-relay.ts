// One HTTP request relayed to the Python app process: the request head and body go to the
// runner as frames within its credit, and the frames of the response come back to the client
// with the wire rules of protocol's send/SPEC.md applied. One state union says how far the
// exchange has gone, so that whoever ends it early (the client leaving, the Python process
// dying) knows what the app has seen. Runs in the worker, per request.
import { addLentBytes, addLentReadBytes, bodyFollows, cutResponse, declaredLength, failResponse, lengthViolation, sendEarlyHints, serviceUnavailable } from '@bicorn/gateway';
import { MAX_PAYLOAD, assertNever, type Frame, type FrameOf, type LimitKind } from '@bicorn/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestKey } from './crash-suspects.js';
import { HeldBody } from './held-body.js';
import type { HostLog } from './log.js';
import { RequestBody } from './request-body.js';
import { requestFrame, type RequestFrame } from './request-head.js';
import { ClientLeft, RequestStream, type BodySource } from './request-stream.js';
import { ResponseSpool } from './response-spool.js';
import { DEFAULT_HEAD, responseHead, writeHead, type ResponseHead } from './response-head.js';
import type { FrameSink } from './runner-process.js';
import { sendPythonFile } from './send-file.js';
import { holdReading, lendableConnection, restartParser, resumeReading, type SocketLender } from './socket-lender.js';
import { SpoolFull, type Spool } from './spool.js';

/** A response whose head is due on the wire, and what its body has come to. */
interface Sending {
  readonly head: ResponseHead;
  /** The app's Content-Length when the body must keep to it, and the body bytes so far. */
  readonly declared: number | undefined;
  sent: number;
  /** The body's way to the client, once more than one frame of it came. */
  spool: ResponseSpool | undefined;
  /** A pathsend whose trailers are to follow: resolves whether the file went out. */
  file: Promise<boolean> | undefined;
  /** The runner has the client's socket (HTTP_BORROW), or is being lent it: nothing else writes to it. */
  lent: boolean;
}

/** How a body the runner was to receive from the client's socket (HTTP_RECEIVE) came out. */
type ReceiptOutcome =
  /** The runner holds it whole. */
  | 'whole'
  /** The runner did not take the socket: the worker receives the body itself. */
  | 'refused'
  /** The client left, or the exchange ended, before it came whole. */
  | 'failed';

/** A body the runner receives from the client's socket, as the worker hears of it. */
interface Receipt {
  readonly length: number;
  /** The socket has been lent (after HTTP_BORROW). */
  lent: boolean;
  /** Whether the connection was to stay open after the response, before it was lent. */
  readonly keepAlive: boolean;
  /** Bytes the runner has, those node had read included. */
  received: number;
  readonly settle: (outcome: ReceiptOutcome) => void;
}

export type RelayPhase =
  /**
   * A WSGI app's body is being received whole, then the request waits until the app can start
   * it: nothing has gone to the runner yet.
   */
  | { readonly kind: 'receiving' }
  /**
   * The request went to the runner, and no frame has come back: the app may not have seen it.
   * Its head and (for a WSGI app) its whole body are kept, for whoever must serve it elsewhere.
   */
  | { readonly kind: 'sent'; readonly request: RequestFrame; readonly body: BodySource | undefined }
  /** The app has the request (a frame came back); nothing of the response is on the wire yet. */
  | { readonly kind: 'started'; readonly head: ResponseHead | undefined }
  /** The response head is on the wire, and the runner sends the rest. */
  | { readonly kind: 'responding'; readonly response: Sending }
  /**
   * The client has the whole response, its Content-Length reached by a part the runner sent
   * before it knew the body was over (a WSGI iterator's end is known only once it has ended):
   * the runner still has the stream, and owes it a final frame with no bytes.
   */
  | { readonly kind: 'finishing'; readonly response: Sending }
  /** The runner is done with the stream; the worker finishes the response (a spool draining, a file). */
  | { readonly kind: 'ending'; readonly spool: ResponseSpool | undefined }
  /** Over for the client: the response is out or failed, or the client left. */
  | { readonly kind: 'closed' };

/** What every relay of a host shares: one object for all its requests, made once by the host. */
export interface HttpRelayOptions {
  /** Request body bytes the runner takes before it credits more. */
  readonly window: number;
  readonly rootPath: string;
  /** The runner's interface: a WSGI app gets a body received whole (unless `streamWsgiUploads`), an ASGI app one as it comes. */
  readonly interface: string;
  /** A WSGI app gets a body with a Content-Length as it comes too (no_request_buffering). */
  readonly streamWsgiUploads: boolean;
  /** Where a WSGI body waits on disk, within the worker's budget. */
  readonly spool: Spool;
  /** Lends client sockets to the runner of the moment, which then writes large bodies or receives large uploads itself; undefined: none can be lent to it now. */
  readonly lender: () => SocketLender | undefined;
  /**
   * The runner of the moment is to receive the relay's body, or holds it (on), or no longer
   * (off): the relay dies with that process. False when there is no process to receive it.
   */
  readonly holding: (relay: HttpRelay, on: boolean) => boolean;
  readonly log: HostLog;
  /**
   * True (at once, or resolved) once the request may go to the app; false: the queue timeout
   * passed, or the client left. `bodiless`: it has no body; `again`: a process that died never
   * started it.
   */
  readonly admit: (relay: HttpRelay, bodiless: boolean, again: boolean) => boolean | Promise<boolean>;
  /** The request got a 503 for a limit. */
  readonly refused: (kind: LimitKind) => void;
  /**
   * Called once, when the stream ends for the worker: no frame for it is wanted after that.
   * `runnerStillBusy`: the app may still be running it, until the runner lets go of the stream.
   * `bodyFile`: then a body whose file the runner may not have opened yet, to destroy once it
   * lets go of the stream.
   */
  readonly onStreamEnd: (relay: HttpRelay, runnerStillBusy: boolean, bodyFile?: RequestBody) => void;
}

/** Whether the runner has let go of the frame's stream after sending it. */
export function isLast(frame: Frame): boolean {
  switch (frame.type) {
    case 'http-response-body':
      return !frame.more;
    case 'http-trailers':
    case 'http-pathsend':
    case 'http-error':
    case 'http-closed':
      return true;
    default:
      return false;
  }
}

const BODY_CHUNK = 256 * 1024;
/**
 * A WSGI app's body of this size or more, with a Content-Length, is received by its runner from
 * the client's socket (frames/SPEC.md, "Receiving a body from the client's socket"): each byte
 * then crosses one process instead of going through the worker and its spool file too.
 */
const RECEIVE_FROM = 1024 * 1024;
/**
 * How long such a body may wait for upload_memory that other bodies hold before it goes the
 * worker's way (to the spool file): under many large uploads at once, memory comes back as each
 * reaches the app, within a few milliseconds; under slow clients that hold it, not soon.
 */
const MEMORY_WAIT_MS = 100;
const EMPTY = Buffer.alloc(0);
const BAD_GATEWAY = Buffer.from('Bad Gateway\n');
const BAD_GATEWAY_HEADERS = { 'content-type': 'text/plain', 'content-length': BAD_GATEWAY.length, connection: 'close' };
const CLOSED: RelayPhase = { kind: 'closed' };
/** The runner is done, and the worker has nothing of its own left to send but what node holds. */
const ENDING: RelayPhase = { kind: 'ending', spool: undefined };

export class HttpRelay {
  readonly #id: number;
  readonly #runner: FrameSink;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #options: HttpRelayOptions;
  #phase: RelayPhase = { kind: 'receiving' };
  /** What is left of the request body to send, and the bytes the runner will still take. */
  #upload: { readonly body: BodySource; window: number } | undefined;
  /** A body the runner reads from its file: kept until the runner has let go of the stream. */
  #bodyFile: RequestBody | undefined;
  #wakeUpload: (() => void) | undefined;
  /** A body the runner is receiving from the client's socket. */
  #receipt: Receipt | undefined;
  /** close()'s promise, made at its first call; and whether the exchange is over for the client (the response's 'close'). */
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #clientClosed = false;
  #key: string | undefined;

  constructor(id: number, runner: FrameSink, req: IncomingMessage, res: ServerResponse, options: HttpRelayOptions) {
    this.#id = id;
    this.#runner = runner;
    this.#req = req;
    this.#res = res;
    this.#options = options;
    // 'close' comes once: once() would wrap the listener for every request.
    res.on('close', this.#onClose);
  }

  /** Its stream's id. */
  get id(): number {
    return this.#id;
  }

  /** Whether it relays `req`. */
  isFor(req: IncomingMessage): boolean {
    return this.#req === req;
  }

  /**
   * Whether the exchange waits on the client rather than the app: its body is still coming
   * (being received whole, or streamed to an app that has credited more than has come).
   */
  get awaitsClient(): boolean {
    return this.#phase.kind === 'receiving' || (this.#upload !== undefined && this.#upload.window > 0);
  }

  /** Whether the client's side of the exchange is gone (its response destroyed). */
  get clientGone(): boolean {
    return this.#res.destroyed;
  }

  /** What identifies the request among those in flight at a crash: `METHOD path`. */
  get key(): string {
    return (this.#key ??= requestKey(this.#req.method, this.#req.url));
  }

  /** How far the exchange has gone; in 'sent', the request (and a WSGI body) the app may not have seen. */
  get phase(): RelayPhase {
    return this.#phase;
  }

  /**
   * Sends the request once it may go to the app, and its body as the runner credits it; a WSGI
   * body is received whole first.
   */
  async start(): Promise<void> {
    const req = this.#req;
    const hasBody = bodyFollows(req);
    let body: BodySource | undefined;
    if (hasBody && (this.#options.interface === 'asgi' || (this.#options.streamWsgiUploads && req.headers['content-length'] !== undefined))) {
      // ASGI apps read the body as it comes (and hear of a client that leaves mid-upload), and
      // so do WSGI apps without request buffering when they know the length; it still moves
      // only under credit, so neither side holds more than the window.
      body = new RequestStream(req);
    } else if (hasBody) {
      const received = await this.#receiveInRunner();
      if (received === undefined) return;
      // A body past a window would cross to the runner window after window: where the runner
      // can read the spool file itself, it goes there.
      const spool = this.#options.spool;
      body = received instanceof HeldBody ? received : await RequestBody.receive(req, spool, spool.shareable ? this.#options.window : Infinity, received).catch((error: unknown) => {
        // Past the spool budget, uploads are refused until files close; else the client left.
        if (error instanceof SpoolFull) this.#refuse('spool-budget', { spoolDir: this.#options.spool.dir }, 'upload refused with 503: the spool budget is spent (see spool_budget)');
        return undefined;
      });
      if (body === undefined) return;
      // The relay may have been closed (or destroyed) while the body came.
      if (this.#phaseKind() !== 'receiving') {
        await body.destroy();
        return;
      }
    }
    await this.#sendWhenAdmitted(body, false);
  }

  /**
   * Has the runner receive a large body from the client's socket itself, when it can. Resolves
   * with the body it then holds; with the body bytes node had read when it cannot (none when it
   * was not asked), for the worker to receive the rest; or undefined when the exchange is over.
   */
  async #receiveInRunner(): Promise<HeldBody | Buffer[] | undefined> {
    const req = this.#req;
    const length = Number(req.headers['content-length']);
    const memory = this.#options.spool.memory;
    if (!(length >= RECEIVE_FROM && length <= 0xffff_ffff) || this.#options.lender() === undefined || !lendableConnection(req)) return [];
    if (!(await memory.reserveWithin(length, MEMORY_WAIT_MS))) return [];
    const start = await holdReading(req, this.#res);
    const body = start === undefined ? EMPTY : Buffer.concat(start);
    if (start === undefined || body.length > MAX_PAYLOAD - 4 || this.#phaseKind() !== 'receiving' || !this.#options.holding(this, true)) {
      memory.release(length);
      if (start !== undefined) resumeReading(req);
      return start ?? [];
    }
    const outcome = await new Promise<ReceiptOutcome>((settle) => {
      this.#receipt = { length, lent: false, keepAlive: this.#res.shouldKeepAlive, received: body.length, settle };
      this.#runner.send({ type: 'http-receive', stream: this.#id, length, body });
    });
    this.#receipt = undefined;
    if (outcome === 'whole') {
      return new HeldBody(length, (sent) => {
        memory.release(length);
        this.#options.holding(this, false);
        if (!sent) this.#runner.send({ type: 'http-disconnect', stream: this.#id });
      });
    }
    memory.release(length);
    this.#options.holding(this, false);
    if (outcome === 'refused') {
      resumeReading(req);
      return start;
    }
    // The client left with part of its body read by the runner (else the exchange ended
    // already): nothing more can be made of this connection.
    if (this.#phaseKind() === 'receiving') {
      this.#phase = CLOSED;
      this.#res.destroy();
    }
    return undefined;
  }

  /** HTTP_BORROW after HTTP_RECEIVE: the runner asks for the socket to receive the body from. */
  #lendToReceive(receipt: Receipt): void {
    const lender = this.#options.lender();
    if (receipt.lent || lender === undefined || this.#res.destroyed || !lender.lend(this.#req.socket, this.#id)) {
      this.#notLent();
      receipt.settle('refused');
      return;
    }
    receipt.lent = true;
    // Until node's parser can start over past the body, the connection cannot carry another request.
    this.#res.shouldKeepAlive = false;
  }

  /** HTTP_RECEIVED: more of the body came to the runner; without `more`, it is done receiving. */
  #onReceived(frame: FrameOf<'http-received'>): void {
    const receipt = this.#receipt;
    // The exchange ended meanwhile (the runner was told, and drops the body).
    if (receipt === undefined) return;
    receipt.received += frame.bytes;
    addLentReadBytes(this.#req.socket, frame.bytes);
    if (frame.more) return;
    if (!receipt.lent) {
      receipt.settle('refused');
    } else if (receipt.received === receipt.length) {
      // The connection goes on with the bytes after the body, the next request's.
      if (receipt.keepAlive && !this.#res.destroyed && restartParser(this.#req)) {
        this.#res.shouldKeepAlive = true;
        resumeReading(this.#req);
      }
      receipt.settle('whole');
    } else {
      receipt.settle('failed');
    }
  }

  /** The exchange ends while the runner receives its body: the runner stops, and drops it. */
  #abandonReceipt(): void {
    const receipt = this.#receipt;
    if (receipt === undefined) return;
    this.#receipt = undefined;
    this.#runner.send({ type: 'http-disconnect', stream: this.#id });
    receipt.settle('failed');
  }

  /**
   * start(), with a failure of the relay itself logged and answered with a 500 (or a cut
   * connection). A request without a body that may start now (most) goes out in this call,
   * without the promises of start().
   */
  run(): void {
    try {
      this.#settle(bodyFollows(this.#req) ? this.start() : this.#sendWhenAdmitted(undefined, false));
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Whether requeue() can send it again: it has no body, and nothing came back for it. */
  get resendable(): boolean {
    return this.#phase.kind === 'sent' && this.#phase.body === undefined;
  }

  /** The process it was sent to died without starting it (and it is resendable): it is sent again, first in line, to the next one. */
  requeue(): void {
    this.#phase = { kind: 'receiving' };
    try {
      this.#settle(this.#sendWhenAdmitted(undefined, true));
    } catch (error) {
      this.#failed(error);
    }
  }

  #settle(work: Promise<void> | undefined): void {
    work?.catch((error: unknown) => {
      this.#failed(error);
    });
  }

  #failed(error: unknown): void {
    this.#options.log.error({ err: error, method: this.#req.method, path: this.#req.url }, 'failed to relay a request to the Python process');
    failResponse(this.#res);
  }

  /** The runner withdrew the request at the queue timeout, before the app started it: a 503. */
  withdrawn(): void {
    const phase = this.#phase;
    if (phase.kind !== 'sent') return;
    this.#leaveSent(phase, CLOSED);
    // The runner has let go of the stream, and of the body's file with it.
    void this.#bodyFile?.destroy();
    this.#bodyFile = undefined;
    this.#refuse('queue-timeout', {}, undefined);
  }

  /**
   * Sends the request once it may go to the app, then its body as the runner credits it.
   * Returns nothing when all of it went out in this call: no body, and admitted at once.
   */
  #sendWhenAdmitted(body: BodySource | undefined, again: boolean): Promise<void> | undefined {
    const admitted = this.#options.admit(this, body === undefined, again);
    if (typeof admitted !== 'boolean') return admitted.then((yes) => this.#sendAdmitted(body, yes));
    return this.#sendAdmitted(body, admitted);
  }

  #sendAdmitted(body: BodySource | undefined, admitted: boolean): Promise<void> | undefined {
    if (!admitted || this.#phaseKind() !== 'receiving') return this.#notSent(body, admitted);
    const req = this.#req;
    const whole = body instanceof RequestBody ? body : undefined;
    const held = body instanceof HeldBody ? body : undefined;
    const plan = body === undefined ? 'none' : (whole ?? held)?.size ?? 'streamed';
    // A body on disk the runner may open goes as its file, read by the app straight from it.
    const file = whole?.sharedPath;
    const lendable = this.#options.lender() !== undefined && lendableConnection(req);
    const request = requestFrame(this.#id, req, this.#options.rootPath, plan, file, lendable, held !== undefined);
    this.#phase = { kind: 'sent', request, body };
    this.#runner.send(request);
    if (body === undefined) return undefined;
    if (held !== undefined) {
      held.markSent();
      this.#options.holding(this, false);
      return undefined;
    }
    if (file !== undefined) {
      this.#bodyFile = whole;
      return undefined;
    }
    this.#upload = { body, window: this.#options.window };
    return this.#pump();
  }

  /** The request does not go to the app: the gate said no (the queue timeout passed, or the client left), or the relay closed meanwhile. */
  async #notSent(body: BodySource | undefined, admitted: boolean): Promise<void> {
    await body?.destroy();
    if (admitted) this.#options.onStreamEnd(this, false);
    else if (this.#phaseKind() === 'receiving') this.#refuse('queue-timeout', {}, undefined);
  }

  /** A frame from the runner on this stream. */
  onFrame(frame: Frame): void {
    const phase = this.#phase;
    // Any frame back means the app has the request.
    if (phase.kind === 'sent') this.#leaveSent(phase, { kind: 'started', head: undefined });
    try {
      this.#onStreamFrame(frame);
    } catch (error) {
      // Something the app sent that node refuses (a header value, a body longer than its
      // Content-Length): this response fails, the others go on.
      this.#options.log.error({ err: error, method: this.#req.method, path: this.#req.url }, 'the Python app sent a response node cannot send');
      if (this.#streamLive()) this.#endStream(!isLast(frame), CLOSED);
      failResponse(this.#res);
    }
  }

  /** Resolves once the exchange is over for the client; the same promise every call. */
  close(): Promise<void> {
    this.#closed ??= this.#clientClosed
      ? Promise.resolve()
      : new Promise((resolve) => {
          this.#resolveClosed = resolve;
        });
    return this.#closed;
  }

  /**
   * Ends the exchange now, because its app can no longer answer (its process is gone): a 502
   * while nothing of the response is on the wire, else the connection cut. Resolves once the
   * client has its answer.
   */
  destroy(reason: Error): Promise<void> {
    const phase = this.#phase;
    this.#options.log.debug({ err: reason, method: this.#req.method, path: this.#req.url, phase: phase.kind }, 'HTTP relay destroyed');
    switch (phase.kind) {
      case 'closed':
        break;
      case 'receiving':
      case 'sent':
      case 'started':
        this.#abandonReceipt();
        this.#endStream(false, CLOSED);
        if (!this.#res.headersSent && !this.#res.destroyed) {
          this.#res.writeHead(502, BAD_GATEWAY_HEADERS);
          this.#res.end(BAD_GATEWAY);
          break;
        }
        cutResponse(this.#res);
        break;
      case 'responding':
        this.#endStream(false, CLOSED);
        cutResponse(this.#res);
        break;
      case 'finishing':
        // The client has its whole response already.
        this.#endStream(false, CLOSED);
        break;
      case 'ending':
        this.#phase = CLOSED;
        this.#res.destroy();
        break;
      default:
        assertNever(phase, 'relay phase');
    }
    return this.close();
  }

  /** Answers 503 for a limit, before anything went to the runner; `message`: the warning to log, if any. */
  #refuse(kind: LimitKind, fields: Record<string, unknown>, message: string | undefined): void {
    this.#phase = CLOSED;
    if (this.#res.destroyed) return;
    if (message !== undefined) this.#options.log.warn({ method: this.#req.method, path: this.#req.url, ...fields }, message);
    this.#options.refused(kind);
    serviceUnavailable(this.#res);
  }

  // A method, not the field: the phase changes while start() awaits the body.
  #phaseKind(): RelayPhase['kind'] {
    return this.#phase.kind;
  }

  #onStreamFrame(frame: Frame): void {
    switch (frame.type) {
      case 'http-response':
        this.#onResponse(frame);
        return;
      case 'http-response-body':
        this.#onBody(frame);
        return;
      case 'http-trailers':
        this.#onTrailers(frame);
        return;
      case 'http-pathsend':
        this.#onPathsend(frame);
        return;
      case 'http-early-hint':
        sendEarlyHints(this.#res, frame.links.map((link) => link.toString('latin1')));
        return;
      case 'http-error':
        this.#endStream(false, CLOSED);
        this.#options.log.error({ method: this.#req.method, path: this.#req.url, traceback: frame.message }, 'exception in Python app');
        failResponse(this.#res);
        return;
      case 'http-borrow':
        if (this.#receipt !== undefined) this.#lendToReceive(this.#receipt);
        else this.#onBorrow();
        return;
      case 'http-received':
        this.#onReceived(frame);
        return;
      case 'http-returned':
        this.#onReturned(frame);
        return;
      case 'credit':
        if (this.#upload !== undefined) {
          this.#upload.window += frame.bytes;
          this.#wakeUpload?.();
        }
        return;
      default:
        this.#options.log.error({ frame: frame.type, stream: frame.stream }, 'unexpected frame from the Python process');
    }
  }

  #onResponse(frame: FrameOf<'http-response'>): void {
    if (this.#phase.kind !== 'started') throw new Error(`HTTP_RESPONSE after the response head went out (${this.#phase.kind})`);
    this.#phase = { kind: 'started', head: responseHead(frame, this.#res, this.#options.log) };
  }

  #onBody(frame: FrameOf<'http-response-body'>): void {
    const phase = this.#phase;
    const response = phase.kind === 'finishing' ? phase.response : this.#responding(frame.more ? undefined : frame.body.length);
    const res = this.#res;
    // The app's Content-Length is a promise to the client: a body that breaks it is cut, so
    // that a keep-alive connection never carries bytes of one response into the next.
    response.sent += frame.body.length;
    checkLength(response, !frame.more);
    if (phase.kind === 'finishing') {
      // The client has the whole body: only the runner's final frame was still due.
      if (!frame.more) this.#endStream(false, CLOSED);
      return;
    }
    // A first frame that is all the Content-Length allows is the whole body, though the runner
    // has yet to say so: it goes out now, not with the runner's final frame.
    const whole = !frame.more || (phase.kind === 'started' && !response.head.trailers && response.sent === response.declared);
    if (!res.headersSent) writeHead(res, response.head, whole ? frame.body.length : undefined);
    if (response.spool === undefined && whole) {
      // The whole body in one frame, the common case: nothing to pace.
      if (frame.more) this.#phase = { kind: 'finishing', response };
      else this.#endStream(false, ENDING);
      res.end(frame.body);
      return;
    }
    const spool = (response.spool ??= new ResponseSpool(
      res,
      (bytes) => {
        if (this.#phase.kind === 'responding') this.#runner.send({ type: 'credit', stream: this.#id, bytes });
      },
      this.#options.spool,
      this.#options.window,
    ));
    if (!frame.more) this.#endStream(false, { kind: 'ending', spool });
    spool.write(frame.body, !frame.more);
  }

  #onTrailers(frame: FrameOf<'http-trailers'>): void {
    const response = this.#responding(undefined);
    const res = this.#res;
    const { spool, file } = response;
    // A file being sent writes the head itself, once it is open.
    if (file === undefined) {
      if (!res.headersSent) writeHead(res, response.head, undefined);
      checkLength(response, true);
    }
    this.#endStream(false, { kind: 'ending', spool });
    // Trailers go out with the last chunk; node drops them from a response that is not chunked.
    const trailers = headerPairs(frame.headers);
    if (file !== undefined) {
      void file.then((sent) => {
        if (!sent) return;
        res.addTrailers(trailers);
        res.end();
      });
    } else if (spool === undefined) {
      res.addTrailers(trailers);
      res.end();
    } else {
      res.addTrailers(trailers);
      spool.write(EMPTY, true);
    }
  }

  #onPathsend(frame: FrameOf<'http-pathsend'>): void {
    const phase = this.#phase;
    if (phase.kind !== 'started') throw new Error(`HTTP_PATHSEND after the response head went out (${phase.kind})`);
    const head = phase.head ?? DEFAULT_HEAD;
    const file = sendPythonFile(this.#res, head, frame.path, this.#options.log);
    // With trailers to come the stream goes on; else the file is the rest of the response.
    if (head.trailers) this.#phase = { kind: 'responding', response: { head, declared: undefined, sent: 0, spool: undefined, file, lent: false } };
    else this.#endStream(false, ENDING);
  }

  /**
   * HTTP_BORROW: the runner asks for the client's socket, to write the body bytes it has now.
   * It gets it once the head and every byte before are out, if the response is one it can
   * write (a Content-Length to keep to, no trailers, nothing waiting for a slow client in the
   * spool); else HTTP_NOT_LENT, and the body goes on in frames.
   */
  #onBorrow(): void {
    const lender = this.#options.lender();
    const phase = this.#phase;
    if (lender === undefined || (phase.kind !== 'started' && phase.kind !== 'responding')) {
      this.#notLent();
      return;
    }
    const response = this.#responding(undefined);
    const res = this.#res;
    const socket = res.socket;
    if (response.declared === undefined || response.head.trailers || response.file !== undefined || response.lent || !(response.spool?.idle ?? true) || socket === null || res.destroyed) {
      this.#notLent();
      return;
    }
    response.lent = true;
    if (!res.headersSent) {
      writeHead(res, response.head, undefined);
      res.flushHeaders();
    }
    // Called once what node holds for the socket, head included, has gone to the kernel: the
    // runner's bytes must follow them on the wire.
    socket.write(EMPTY, () => {
      if (this.#phase.kind !== 'responding' || res.destroyed || !lender.lend(socket, this.#id)) {
        response.lent = false;
        if (this.#streamLive()) this.#notLent();
      }
    });
  }

  #notLent(): void {
    this.#runner.send({ type: 'http-not-lent', stream: this.#id });
  }

  /** HTTP_RETURNED: the runner has closed the socket it borrowed, after writing `bytes` of the body to it. */
  #onReturned(frame: FrameOf<'http-returned'>): void {
    const phase = this.#phase;
    if (phase.kind !== 'responding' || !phase.response.lent) throw new Error(`HTTP_RETURNED for a socket not lent (${phase.kind})`);
    const response = phase.response;
    response.lent = false;
    response.sent += frame.bytes;
    if (this.#res.socket !== null) addLentBytes(this.#res.socket, frame.bytes);
    checkLength(response, false);
  }

  /** The response under way, its head now due on the wire; `wholeBody`: this frame is all of the body. */
  #responding(wholeBody: number | undefined): Sending {
    const phase = this.#phase;
    if (phase.kind === 'responding') return phase.response;
    if (phase.kind !== 'started') throw new Error(`a response frame in phase ${phase.kind}`);
    const head = phase.head ?? DEFAULT_HEAD;
    const response: Sending = { head, declared: declaredLength(this.#req.method === 'HEAD', head.status, head.headers), sent: 0, spool: undefined, file: undefined, lent: false };
    // A body in one frame goes out at once: it never waits in the 'responding' phase.
    if (wholeBody === undefined) this.#phase = { kind: 'responding', response };
    return response;
  }

  #streamLive(): boolean {
    const kind = this.#phase.kind;
    return kind === 'sent' || kind === 'started' || kind === 'responding' || kind === 'finishing';
  }

  /**
   * The stream is over for the worker: tells the runner when it may still be working on it (a
   * body the app never read keeps it open there too), stops the upload, and moves to `next`.
   */
  #endStream(runnerStillBusy: boolean, next: RelayPhase): void {
    const phase = this.#phase;
    const live = this.#streamLive();
    if (phase.kind === 'sent') this.#leaveSent(phase, next);
    else this.#phase = next;
    const upload = this.#upload;
    this.#upload = undefined;
    this.#wakeUpload?.();
    if (!live) return;
    if (runnerStillBusy || upload !== undefined) this.#runner.send({ type: 'http-disconnect', stream: this.#id });
    if (upload !== undefined) void upload.body.destroy();
    const bodyFile = this.#bodyFile;
    this.#bodyFile = undefined;
    if (!runnerStillBusy) void bodyFile?.destroy();
    this.#options.onStreamEnd(this, runnerStillBusy, runnerStillBusy ? bodyFile : undefined);
  }

  /**
   * Leaves 'sent': a body kept for another server goes, unless it is still being sent (the
   * upload destroys it at its end) or the runner reads it from its file (#endStream lets it go).
   */
  #leaveSent(phase: Extract<RelayPhase, { kind: 'sent' }>, next: RelayPhase): void {
    this.#phase = next;
    if (phase.body !== undefined && this.#upload?.body !== phase.body && this.#bodyFile !== phase.body) void phase.body.destroy();
  }

  /** Sends the body in frames within the runner's credit, waiting for credit between them. */
  async #pump(): Promise<void> {
    for (;;) {
      const upload = this.#upload;
      if (upload === undefined) return;
      if (upload.window <= 0) {
        await new Promise<void>((resolve) => {
          this.#wakeUpload = resolve;
        });
        continue;
      }
      let piece: Buffer | null;
      try {
        piece = await upload.body.read(Math.min(upload.window, BODY_CHUNK));
      } catch (error) {
        // The client left (the response's 'close' tells the runner, whose app then gets
        // http.disconnect), or the stream ended while the piece was on its way.
        if (error instanceof ClientLeft || this.#upload !== upload) return;
        throw error;
      }
      if (this.#upload !== upload) return;
      if (piece === null) {
        this.#upload = undefined;
        this.#runner.send({ type: 'http-body', stream: this.#id, more: false, body: EMPTY });
        // A body kept for another server stays until the app has the request.
        if (this.#phase.kind !== 'sent') await upload.body.destroy();
        return;
      }
      upload.window -= piece.length;
      this.#runner.send({ type: 'http-body', stream: this.#id, more: true, body: piece });
    }
  }

  readonly #onClose = (): void => {
    this.#clientClosed = true;
    this.#resolveClosed?.();
    const phase = this.#phase;
    switch (phase.kind) {
      case 'receiving':
        // The body being received fails, and start() gives up.
        this.#phase = CLOSED;
        this.#abandonReceipt();
        return;
      case 'sent':
      case 'started':
      case 'responding':
        this.#endStream(!this.#res.writableFinished, CLOSED);
        void (phase.kind === 'responding' ? phase.response.spool?.destroy() : undefined);
        return;
      case 'finishing':
        // The stream ends with the runner's final frame, unless the app still waits for a
        // request body that the client, gone, will never send.
        if (this.#upload !== undefined) this.#endStream(true, CLOSED);
        return;
      case 'ending':
        this.#phase = CLOSED;
        void phase.spool?.destroy();
        return;
      case 'closed':
        return;
      default:
        assertNever(phase, 'relay phase');
    }
  };
}

/** Throws when the body so far breaks the app's Content-Length; `final`: it is the whole body. */
function checkLength(response: Sending, final: boolean): void {
  const rule = response.declared === undefined ? undefined : lengthViolation(response.declared, response.sent, final);
  if (rule !== undefined) throw new Error(`the response breaks its Content-Length: ${rule}`);
}

/** Flat headers as [name, value] pairs, as addTrailers takes them. */
function headerPairs(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] ?? '', flat[i + 1] ?? '']);
  return pairs;
}

// Serves HTTP requests with the Python app process: each request is a stream of frames on
// fd 3, with credit-based flow control both ways. A slow client never holds a Python thread:
// a WSGI app's request body is received whole first (request-body.ts), an ASGI app's streams
// in as the app reads it (request-stream.ts), and a response the client cannot take yet waits
// on disk (response-spool.ts) while the app goes on. Runs in the worker, per request.
import { declaredLength, failResponse, lengthViolation, serviceUnavailable, type AsgiWebSocketCallable } from '@bicorn/gateway';
import type { Frame, FrameOf, Load } from '@bicorn/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostLog } from './log.js';
import { RequestBody } from './request-body.js';
import { requestFrame } from './request-head.js';
import { ClientLeft, RequestStream, type BodySource } from './request-stream.js';
import { ResponseSpool } from './response-spool.js';
import { SpoolFull, type Spool } from './spool.js';
import { AppPulse } from './app-pulse.js';
import { CrashSuspects, requestKey } from './crash-suspects.js';
import { StartGate } from './start-gate.js';
import type { RunnerProcess } from './runner-process.js';
import { responseHead, writeHead, type ResponseHead } from './response-head.js';
import { sendPythonFile } from './send-file.js';
import { WebSocketRelay } from './websocket-relay.js';

interface Stream {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Request body bytes the runner will still accept. */
  window: number;
  /** What is left of the request body to send; undefined once the last frame has gone. */
  body: BodySource | undefined;
  /** A read of the body is under way. */
  pumping: boolean;
  /** The response body's way to the client, from its first frame on. */
  spool: ResponseSpool | undefined;
  /** The response head, held until the first body frame says whether the body is all there is. */
  head: ResponseHead | undefined;
  /** The app's Content-Length, when the body must match it; and the body bytes so far. */
  declaredLength: number | undefined;
  bodyLength: number;
}

/** Whether the runner has let go of the frame's stream after sending it. */
function isLast(frame: Frame): boolean {
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

export interface PythonHostOptions {
  readonly window: number;
  readonly rootPath: string;
  /** The WSGI app's threads. */
  readonly threads: number;
  /** How long a request may wait for the app to start it; 0: no limit. */
  readonly queueTimeoutMs: number;
  /** Where bodies wait on disk, and the worker's budget for them. */
  readonly spool: Spool;
  readonly log: HostLog;
}

const BODY_CHUNK = 256 * 1024;
const EMPTY = Buffer.alloc(0);
const BAD_GATEWAY = Buffer.from('Bad Gateway\n');
const BAD_GATEWAY_HEADERS = { 'content-type': 'text/plain', 'content-length': BAD_GATEWAY.length, connection: 'close' };

export class PythonHost {
  /** The Python process; undefined from its death until useRunner() brings the next one. */
  #runner: RunnerProcess | undefined;
  readonly #interface: string;
  readonly #window: number;
  readonly #rootPath: string;
  readonly #log: HostLog;
  readonly #spool: Spool;
  readonly #streams = new Map<number, Stream>();
  readonly #sockets = new Map<number, WebSocketRelay>();
  readonly #gate: StartGate;
  #pulse: AppPulse;
  /** Streams ended here that the app may still be running: each holds its slot until it lets go. */
  readonly #letGo = new Set<number>();
  readonly #suspects = new CrashSuspects();
  #onLoad: () => void = () => undefined;
  #nextStream = 1;

  constructor(runner: RunnerProcess, options: PythonHostOptions) {
    this.#runner = runner;
    this.#interface = runner.interface;
    this.#window = options.window;
    this.#rootPath = options.rootPath;
    this.#log = options.log;
    this.#spool = options.spool;
    this.#gate = new StartGate({
      slots: runner.interface === 'wsgi' ? options.threads : Infinity,
      timeoutMs: options.queueTimeoutMs,
      onChange: () => {
        this.#onLoad();
      },
      isSuspect: (key) => this.#suspects.isSuspect(key, Date.now()),
    });
    this.#pulse = this.#attach(runner);
  }

  /** What the app can take on now. */
  load(): Load {
    return { free: this.#gate.free, waiting: this.#gate.waiting };
  }

  /** `listener` runs whenever load() may have changed. */
  watchLoad(listener: () => void): void {
    this.#onLoad = listener;
  }

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.#serve(req, res).catch((error: unknown) => {
      this.#log.error({ err: error, method: req.method, path: req.url }, 'failed to relay a request to the Python process');
      failResponse(res);
    });
  };

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    let body: BodySource | undefined;
    if (hasBody && this.#interface === 'asgi') {
      // ASGI apps read the body as it comes (and hear of a client that leaves mid-upload);
      // it still moves only under credit, so neither side holds more than the window.
      body = new RequestStream(req);
    } else if (hasBody) {
      body = await RequestBody.receive(req, this.#spool).catch((error: unknown) => {
        // Past the spool budget, uploads are refused until files close; else the client left.
        if (error instanceof SpoolFull) {
          this.#log.warn({ method: req.method, path: req.url, spoolDir: this.#spool.dir }, 'upload refused with 503: the spool budget is spent (see spool_budget)');
          serviceUnavailable(res);
        }
        return undefined;
      });
      if (body === undefined) return;
    }
    // What the app receives, it has started: a request that cannot start yet waits here.
    if (!(await this.#gate.take(requestKey(req.method, req.url), () => !res.destroyed))) {
      await body?.dispose();
      if (!res.destroyed) this.#log.warn({ method: req.method, path: req.url, waiting: this.#gate.waiting }, 'the app did not start the request within queue_timeout; answering 503');
      serviceUnavailable(res);
      return;
    }
    // The gate lets nothing start while no Python process is there.
    const runner = this.#runner;
    if (res.destroyed || runner === undefined) {
      this.#gate.release();
      await body?.dispose();
      return;
    }
    const id = this.#newStreamId();
    const stream: Stream = { req, res, window: this.#window, body, pumping: false, spool: undefined, head: undefined, declaredLength: undefined, bodyLength: 0 };
    this.#streams.set(id, stream);
    res.on('close', () => {
      if (this.#streams.has(id)) this.#end(id, stream, !res.writableFinished);
      void stream.spool?.dispose();
    });
    const plan = body === undefined ? 'none' : body instanceof RequestBody ? body.size : 'streamed';
    runner.send(requestFrame(id, req, this.#rootPath, plan));
    if (body !== undefined) await this.#pump(id, stream);
  }

  /** The gateway runs this for each WebSocket: it relays the connection to the Python app. */
  readonly websocket: AsgiWebSocketCallable = async (scope, receive, send) => {
    const runner = this.#runner;
    if (runner === undefined) {
      throw new Error('the Python process has died, and its replacement is not ready yet');
    }
    const id = this.#newStreamId();
    const relay = new WebSocketRelay(id, runner, { window: this.#window, log: this.#log, send, path: scope.path });
    this.#sockets.set(id, relay);
    try {
      await relay.run(scope, receive);
    } finally {
      this.#sockets.delete(id);
    }
  };

  #newStreamId(): number {
    const id = this.#nextStream;
    this.#nextStream = id >= 0xffff_ffff ? 1 : id + 1;
    return id;
  }

  /**
   * The Python process has died. What it had started gets a 502 (a cut connection once its
   * response had begun), and WebSockets close; what it had not started waits for the next
   * process (useRunner), and one that keeps being in flight at deaths waits behind the others.
   * Returns the requests that were in flight, as `METHOD path`.
   */
  lostRunner(): string[] {
    this.#runner = undefined;
    this.#pulse.close();
    this.#gate.suspend();
    this.#letGo.clear();
    const inFlight: string[] = [];
    for (const { req, res, body } of this.#streams.values()) {
      inFlight.push(requestKey(req.method, req.url));
      void body?.dispose();
      if (res.headersSent) res.socket?.resetAndDestroy();
      else badGateway(res);
    }
    this.#streams.clear();
    for (const relay of this.#sockets.values()) {
      relay.detach();
      relay.fail(502);
    }
    this.#suspects.record(inFlight, Date.now());
    return inFlight;
  }

  /** The next Python process is ready, after a boot of `bootMs`: the requests that waited for it start. */
  useRunner(runner: RunnerProcess, bootMs: number): void {
    this.#runner = runner;
    this.#pulse = this.#attach(runner);
    this.#gate.resume(bootMs);
  }

  /** No Python process will come: the requests that wait get their 503 now. */
  refuseWaiting(): void {
    this.#gate.refuseWaiting();
  }

  #attach(runner: RunnerProcess): AppPulse {
    runner.onFrame = (frame) => {
      this.#onFrame(frame);
    };
    return new AppPulse(runner, this.#log, (responsive) => {
      this.#gate.setResponsive(responsive);
    });
  }

  /** Forgets a stream; tells the runner when it may still be working on it. */
  #end(id: number, stream: Stream, runnerStillBusy: boolean): void {
    this.#streams.delete(id);
    // Its slot is free once the app has let go: now, or when the runner says so.
    if (runnerStillBusy) this.#letGo.add(id);
    else this.#gate.release();
    // A body the app never read keeps the stream open in the runner: end it there too.
    if (runnerStillBusy || stream.body !== undefined) this.#runner?.send({ type: 'http-disconnect', stream: id });
    void stream.body?.dispose();
    stream.body = undefined;
  }

  /** Sends as much of the body as the runner has credit for. */
  async #pump(id: number, stream: Stream): Promise<void> {
    if (stream.pumping) return;
    stream.pumping = true;
    try {
      while (stream.body !== undefined && stream.window > 0) {
        const body = stream.body;
        let piece: Buffer | null;
        try {
          piece = await body.read(Math.min(stream.window, BODY_CHUNK));
        } catch (error) {
          // The client left (the response's 'close' tells the runner, whose app then gets
          // http.disconnect), or the stream ended while the piece was on its way.
          if (error instanceof ClientLeft || !this.#streams.has(id)) return;
          throw error;
        }
        if (!this.#streams.has(id)) return;
        if (piece === null) {
          stream.body = undefined;
          await body.dispose();
          this.#runner?.send({ type: 'http-body', stream: id, more: false, body: EMPTY });
          return;
        }
        stream.window -= piece.length;
        this.#runner?.send({ type: 'http-body', stream: id, more: true, body: piece });
      }
    } finally {
      stream.pumping = false;
    }
  }

  #onFrame(frame: Frame): void {
    const stream = this.#streams.get(frame.stream);
    if (stream === undefined) {
      if (isLast(frame) && this.#letGo.delete(frame.stream)) this.#gate.release();
      const relay = this.#sockets.get(frame.stream);
      if (relay !== undefined) relay.onFrame(frame);
      else if (frame.type === 'http-error') {
        this.#log.error({ stream: frame.stream, traceback: frame.message }, 'exception in Python app after its response was over');
      }
      return; // ended here; other frames in flight may still cross
    }
    try {
      this.#onStreamFrame(frame, stream);
    } catch (error) {
      // Something the app sent that node refuses (a header value, a body longer than its
      // Content-Length): this response fails, the others go on.
      this.#log.error({ err: error, method: stream.req.method, path: stream.req.url }, 'the Python app sent a response node cannot send');
      if (this.#streams.has(frame.stream)) this.#end(frame.stream, stream, !isLast(frame));
      failResponse(stream.res);
    }
  }

  #onStreamFrame(frame: Frame, stream: Stream): void {
    switch (frame.type) {
      case 'http-response':
        stream.head = responseHead(frame);
        stream.declaredLength = declaredLength(stream.req.method === 'HEAD', frame.status, stream.head.headers);
        return;
      case 'http-response-body':
        this.#onResponseBody(frame, stream);
        return;
      case 'http-error':
        this.#end(frame.stream, stream, false);
        this.#log.error({ method: stream.req.method, path: stream.req.url, traceback: frame.message }, 'exception in Python app');
        failResponse(stream.res);
        return;
      case 'credit':
        stream.window += frame.bytes;
        void this.#pump(frame.stream, stream);
        return;
      case 'http-early-hint':
        if (!stream.res.headersSent) stream.res.writeEarlyHints({ link: frame.links.map((link) => link.toString('latin1')) });
        return;
      case 'http-trailers':
        this.#onTrailers(frame, stream);
        return;
      case 'http-pathsend':
        this.#end(frame.stream, stream, false);
        void sendPythonFile(stream.res, stream.head, frame.path, stream.req.method === 'HEAD', this.#log);
        return;
      default:
        this.#log.error({ frame: frame.type, stream: frame.stream }, 'unexpected frame from the Python process');
    }
  }

  #onResponseBody(frame: FrameOf<'http-response-body'>, stream: Stream): void {
    const { res } = stream;
    const id = frame.stream;
    // The app's Content-Length is a promise to the client: a body that breaks it is cut, so
    // that a keep-alive connection never carries bytes of one response into the next.
    stream.bodyLength += frame.body.length;
    checkLength(stream, !frame.more);
    if (!res.headersSent) writeHead(res, stream.head, frame.more ? undefined : frame.body.length);
    if (stream.spool === undefined && !frame.more) {
      // The whole body in one frame, the common case: nothing to pace.
      this.#end(id, stream, false);
      res.end(frame.body);
      return;
    }
    stream.spool ??= new ResponseSpool(
      res,
      (bytes) => {
        if (this.#streams.has(id)) this.#runner?.send({ type: 'credit', stream: id, bytes });
      },
      this.#spool,
    );
    if (!frame.more) this.#end(id, stream, false);
    stream.spool.write(frame.body, !frame.more);
  }

  #onTrailers(frame: FrameOf<'http-trailers'>, stream: Stream): void {
    const { res } = stream;
    if (!res.headersSent) writeHead(res, stream.head, undefined);
    checkLength(stream, true);
    this.#end(frame.stream, stream, false);
    // Trailers go out with the last chunk; node drops them from a response that is not chunked.
    res.addTrailers(frame.headers.map(([name, value]) => [name.toString('latin1'), value.toString('latin1')] as [string, string]));
    if (stream.spool === undefined) res.end();
    else stream.spool.write(EMPTY, true);
  }
}

/** Throws when the body so far breaks the app's Content-Length; `final`: it is the whole body. */
function checkLength(stream: Stream, final: boolean): void {
  const rule = stream.declaredLength === undefined ? undefined : lengthViolation(stream.declaredLength, stream.bodyLength, final);
  if (rule !== undefined) throw new Error(`the response breaks its Content-Length: ${rule}`);
}

function badGateway(res: ServerResponse): void {
  res.writeHead(502, BAD_GATEWAY_HEADERS);
  res.end(BAD_GATEWAY);
}

// One WebSocket between the gateway, which owns the client's connection, and the Python app
// process: the gateway's events become frames on the app's stream, and the app's frames become
// the gateway's send() calls (messages go both ways as bytes, through the gateway's message
// port), in order, with credit both ways (SPEC.md, "WebSocket frames"), so that what waits for
// a slow client or a slow app stays within the window plus the message on its way. The gateway
// enforces the ASGI rules for JavaScript and Python apps alike. Or, when the runner asks for it
// with the accept, the connection is handed over and its socket lent to the runner, which runs
// it itself ("A WebSocket on the client's socket"): the relay then only waits for its end. Runs
// in the worker, per connection.
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { addLentBytes, ClientDisconnected, type AsgiTlsExtension, type HandedOver, type WebSocketMessagePort, type WebSocketReceiveEvent, type WebSocketScope } from '@bicorn/gateway';
import { MAX_PAYLOAD, type Frame, type FrameOf } from '@bicorn/protocol';
import type { HostLog } from './log.js';
import { tlsHeadFrom } from './request-head.js';
import type { FrameSink, RunnerProcess } from './runner-process.js';
import { lendableSocket, type SocketLender } from './socket-lender.js';

type GatewaySend = (event: unknown) => Promise<void>;

// Room for the flags byte in a WS_MESSAGE frame.
const MAX_FRAGMENT = MAX_PAYLOAD - 1;

export class WebSocketRelay {
  readonly #id: number;
  readonly #runner: FrameSink;
  readonly #log: HostLog;
  readonly #send: GatewaySend;
  readonly #port: WebSocketMessagePort;
  readonly #path: string;
  /** Message bytes the runner will still take from the client. */
  #window: number;
  /** Credit for the app's whole messages, held back until a quarter of the window is owed (SPEC.md). */
  #heldBack = 0;
  readonly #creditBatch: number;
  #wakePump: (() => void) | undefined;
  /** The app's events, handed to the gateway one after the other. */
  #outgoing: Promise<void> = Promise.resolve();
  /** Steps of #outgoing not yet done: with none, the next event goes to the gateway at once. */
  #pending = 0;
  /** A message from the app whose last fragment has not come yet. */
  #fragments: Buffer[] = [];
  /** How far the app has answered: what an error from it, or its process dying, must end. */
  #app: 'handshake' | 'denying' | 'open' | 'done' = 'handshake';
  /** The app failed mid-denial: run() throws it, for the gateway to cut the connection. */
  #failure: Error | undefined;
  /** The client side is over: WS_CLOSE went to the runner (or it died). */
  #ended = false;
  /** A send failed because the client left; its disconnect may still wait behind messages. */
  #clientGone = false;
  /** A client message was cut off for a client that left: no later one may follow its pieces. */
  #truncated = false;
  /** Client messages #take refused that the pump has still to take through receive(): until then, #take refuses the ones after them. */
  #leftToReceive = 0;
  /** Resolves when the app ended the connection before accepting it (denied, closed or failed). */
  readonly #refused: Promise<void>;
  #refuse: () => void = () => undefined;
  readonly #lender: () => SocketLender | undefined;
  /** WS_CONNECT said LENDABLE: the runner may run the connection on the client's socket. */
  #lendable = false;
  /** The runner asked for the socket (HTTP_BORROW) and has no answer yet. */
  #loanAsked = false;
  /** The connection runs in the runner, on the lent socket: only its end comes back (SPEC.md). */
  #lent: { readonly socket: Socket; readonly handedOver: HandedOver } | undefined;

  constructor(id: number, runner: FrameSink, options: { window: number; log: HostLog; send: GatewaySend; port: WebSocketMessagePort; path: string; lender: () => SocketLender | undefined }) {
    this.#id = id;
    this.#runner = runner;
    this.#window = options.window;
    this.#creditBatch = Math.max(1, Math.floor(options.window / 4));
    this.#log = options.log;
    this.#send = options.send;
    this.#port = options.port;
    this.#path = options.path;
    this.#lender = options.lender;
    this.#refused = new Promise((resolve) => {
      this.#refuse = resolve;
    });
  }

  /** Opens the stream, then relays until the connection is over on both sides. */
  async run(scope: WebSocketScope, receive: () => Promise<WebSocketReceiveEvent>): Promise<void> {
    const first = await receive();
    if (first.type !== 'websocket.connect') return; // the client left during the handshake
    const socket = this.#port.socketToHandOver();
    this.#lendable = socket !== undefined && lendableSocket(socket) && this.#lender() !== undefined;
    this.#runner.send(connectFrame(this.#id, scope, this.#lendable));
    this.#port.takeMessages(this.#take);
    await Promise.race([this.#pumpClient(receive), this.#refused]);
    await this.#outgoing;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** A frame from the runner on this stream. */
  onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'ws-accept':
        this.#app = 'open';
        this.#queue({ type: 'websocket.accept', subprotocol: frame.subprotocol === '' ? null : frame.subprotocol, headers: asgiHeaders(frame.headers) });
        return;
      case 'ws-message':
        this.#onMessage(frame);
        return;
      case 'http-borrow':
        this.#onBorrow();
        return;
      case 'http-returned':
        // The bytes the runner wrote to the lent socket, for the access line.
        if (this.#lent !== undefined) addLentBytes(this.#lent.socket, frame.bytes);
        return;
      case 'ws-close':
        if (this.#lent !== undefined) {
          // The runner closed the connection it ran: the stream is over.
          this.#app = 'done';
          this.#ended = true;
          this.#lent.handedOver.over(frame.code);
          return;
        }
        this.#queue({ type: 'websocket.close', code: frame.code, reason: frame.reason });
        if (this.#app !== 'open') this.#refuse();
        this.#app = 'done';
        return;
      case 'http-response':
        this.#app = 'denying';
        this.#queue({ type: 'websocket.http.response.start', status: frame.status, headers: asgiHeaders(frame.headers) });
        return;
      case 'http-response-body':
        this.#queue({ type: 'websocket.http.response.body', body: frame.body, more_body: frame.more }, frame.body.length);
        if (!frame.more) {
          this.#app = 'done';
          this.#refuse();
        }
        return;
      case 'http-error':
        this.#onError(frame.message);
        return;
      case 'credit':
        this.#window += frame.bytes;
        this.#wakePump?.();
        return;
      default:
        this.#log.error({ frame: frame.type, stream: frame.stream }, 'unexpected frame from the Python process on a WebSocket stream');
    }
  }

  /**
   * HTTP_BORROW before WS_ACCEPT: the accept hands the connection over, and the socket goes to
   * the runner once the 101 is out; HTTP_NOT_LENT when it cannot (SPEC.md).
   */
  #onBorrow(): void {
    if (!this.#lendable || this.#app !== 'handshake' || this.#loanAsked) {
      this.#runner.send({ type: 'http-not-lent', stream: this.#id });
      return;
    }
    this.#loanAsked = true;
    const handedOver = this.#port.handOver({
      taken: (socket) => {
        this.#onTaken(socket, handedOver);
      },
      goAway: () => {
        this.#runner.send({ type: 'ws-close', stream: this.#id, code: 1001, reason: 'server shutting down' });
      },
    });
  }

  /** The accept handed the connection over (`socket`), or opened it in the gateway after all. */
  #onTaken(socket: Socket | undefined, handedOver: HandedOver): void {
    this.#loanAsked = false;
    if (this.#ended) {
      // The runner died meanwhile.
      if (socket !== undefined) handedOver.fail();
      return;
    }
    if (socket !== undefined && this.#lender()?.lend(socket, this.#id) === true) {
      this.#lent = { socket, handedOver };
      return;
    }
    this.#runner.send({ type: 'http-not-lent', stream: this.#id });
    // Past the 101 the connection can only end: the runner's app is told by the pump.
    if (socket !== undefined) handedOver.fail();
  }

  /** HTTP_ERROR: the app failed; after its last frame (the connection over for it) that is only logged. */
  #onError(traceback: string): void {
    if (this.#lent !== undefined) {
      // The runner closes the connection it runs itself, with 1011.
      this.#log.error({ method: 'GET', path: this.#path, websocket: true, traceback }, 'exception in Python app');
      return;
    }
    if (this.#app === 'done') {
      this.#log.error({ path: this.#path, websocket: true, traceback }, 'exception in Python app after its connection was over');
      return;
    }
    this.#log.error({ method: 'GET', path: this.#path, websocket: true, traceback }, 'exception in Python app');
    this.#fail(500);
  }

  /**
   * Ends the connection now, because its app can no longer answer (its process is gone): 502
   * before the accept, close 1011 after; nothing more goes to the runner.
   */
  destroy(reason: Error): void {
    this.#log.debug({ err: reason, path: this.#path, app: this.#app }, 'WebSocket relay destroyed');
    this.#ended = true;
    this.#wakePump?.();
    if (this.#lent !== undefined) {
      this.#app = 'done';
      this.#lent.handedOver.fail();
      return;
    }
    this.#fail(502);
  }

  /**
   * Ends the connection for an app that cannot go on: a close with 1011 once accepted, a cut
   * mid-denial, else an HTTP response with `code` as the status (500 when the app failed, 502
   * when its process died); nothing once the app had ended the connection itself.
   */
  #fail(code: 500 | 502): void {
    const app = this.#app;
    this.#app = 'done';
    if (app === 'done') return;
    if (app === 'denying') {
      // Mid-denial the response is cut, which the gateway does for an app that fails.
      this.#failure ??= new Error(code === 502 ? 'the Python process died mid-denial' : 'the Python app failed mid-denial');
      this.#refuse();
      return;
    }
    // A close code, not an HTTP status, once the connection is open: 1011, the server failed.
    if (app === 'open') this.#queue({ type: 'websocket.close', code: 1011, reason: '' });
    else {
      const body = Buffer.from(code === 502 ? 'Bad Gateway\n' : 'Internal Server Error\n');
      const headers = [
        [Buffer.from('content-type'), Buffer.from('text/plain')],
        [Buffer.from('content-length'), Buffer.from(String(body.length))],
      ];
      this.#queue({ type: 'websocket.http.response.start', status: code, headers });
      this.#queue({ type: 'websocket.http.response.body', body, more_body: false });
      this.#refuse();
    }
  }

  // A method, not the field: the runner may die while the pump awaits the client.
  #detached(): boolean {
    return this.#ended;
  }

  #onMessage(frame: FrameOf<'ws-message'>): void {
    if (frame.more) {
      // The gateway takes whole messages, so these bytes are held until the last ones come,
      // and a message larger than the window needs their credit. It is given once the messages
      // before it have gone to the client: what waits for a slow client stays within the window.
      this.#fragments.push(frame.body);
      const bytes = frame.body.length;
      this.#after(() => {
        this.#pending -= 1;
        this.#credit(bytes, true);
        return undefined;
      });
      return;
    }
    const body = this.#fragments.length === 0 ? frame.body : Buffer.concat([...this.#fragments, frame.body]);
    this.#fragments = [];
    this.#deliver(body, frame.text, frame.body.length);
  }

  /**
   * A whole message of the app's to the client, as its bytes (the runner encoded its text as
   * UTF-8, and a text frame that is not goes out with U+FFFD in its place, as decoding would).
   */
  #deliver(body: Buffer, text: boolean, bytes: number): void {
    const data = text && !isUtf8(body) ? Buffer.from(body.toString('utf8')) : body;
    this.#after(() => {
      let waiting: Promise<void> | undefined;
      try {
        waiting = this.#port.sendMessage(data, text);
      } catch (error) {
        this.#failed(error, 'websocket.send');
        return undefined;
      }
      if (waiting !== undefined) return this.#settled(waiting, bytes, 'websocket.send');
      this.#sent(bytes);
      return undefined;
    });
  }

  /** Hands an event to the gateway after the ones before it; credits `bytes` once it is out. */
  #queue(event: Record<string, unknown>, bytes = 0): void {
    this.#after(() => this.#settled(this.#send(event), bytes, event.type));
  }

  /** The step of #after that waits for `written`: then as #sent, or as #failed when the gateway refused it. */
  #settled(written: Promise<void>, bytes: number, type: unknown): Promise<void> {
    return written.then(
      () => {
        this.#sent(bytes);
      },
      (error: unknown) => {
        this.#failed(error, type);
      },
    );
  }

  /** The step of #after that handed an event on is done: `bytes` of the app's messages are out. */
  #sent(bytes: number): void {
    this.#pending -= 1;
    this.#credit(bytes, false);
  }

  /** The step of #after that handed an event on is done, and the gateway refused it. */
  #failed(error: unknown, type: unknown): void {
    this.#pending -= 1;
    if (this.#loanAsked && type === 'websocket.accept') {
      // The accept never reached the handshake: the runner, waiting for the socket, relays on.
      this.#loanAsked = false;
      this.#runner.send({ type: 'http-not-lent', stream: this.#id });
    }
    if (error instanceof ClientDisconnected) {
      // The runner hears it from the pump, as a WS_CLOSE, even while it has no credit.
      this.#clientGone = true;
      this.#wakePump?.();
    } else {
      this.#log.error({ err: error, path: this.#path, event: type }, 'the gateway refused an event of the Python app');
    }
  }

  /**
   * Runs `step` once the steps before it are done, and the step says when it is done by taking
   * one from #pending. With none waiting, as most messages find, it runs at once, with no
   * promise made for it.
   */
  #after(step: () => Promise<void> | undefined): void {
    this.#pending += 1;
    if (this.#pending === 1) this.#outgoing = step() ?? this.#outgoing;
    else this.#outgoing = this.#outgoing.then(step);
  }

  /**
   * Credits `bytes` the client has taken: a piece of a message at once, with what was held back;
   * else once a quarter of the window is owed, which spares a frame back for every small message.
   */
  #credit(bytes: number, piece: boolean): void {
    if (this.#ended) return;
    const owed = this.#heldBack + bytes;
    this.#heldBack = piece || owed >= this.#creditBatch ? 0 : owed;
    if (this.#heldBack === 0 && owed > 0) this.#runner.send({ type: 'credit', stream: this.#id, bytes: owed });
  }

  /**
   * A client message, as it comes: to the runner in one frame when the window has room for it
   * and none waits before it, as nearly every one; else refused, for the pump to take through
   * receive() in order, waiting for credit.
   */
  readonly #take = (data: Buffer, text: boolean): boolean => {
    if (this.#leftToReceive > 0 || this.#ended || this.#clientGone || this.#truncated || this.#window <= 0 || data.length > this.#window || data.length > MAX_FRAGMENT) {
      this.#leftToReceive += 1;
      return false;
    }
    this.#toRunner(data, false, text);
    return true;
  };

  /**
   * The client messages #take refused, to the runner while it has credit; ends with WS_CLOSE
   * when the connection closes.
   */
  async #pumpClient(receive: () => Promise<WebSocketReceiveEvent>): Promise<void> {
    for (;;) {
      while (this.#window <= 0 && !this.#ended && !this.#clientGone) await this.#creditOrEnd();
      if (this.#ended) return;
      const event = await receive();
      if (this.#detached()) return;
      if (event.type === 'websocket.disconnect') {
        this.#ended = true;
        // A connection the runner runs ends there, and the runner has said so.
        if (this.#lent === undefined) this.#runner.send({ type: 'ws-close', stream: this.#id, code: event.code, reason: event.reason ?? '' });
        return;
      }
      // Messages of a client that has left, for an app out of credit, could never be answered.
      if (event.type === 'websocket.receive' && !this.#truncated && (this.#window > 0 || !this.#clientGone)) await this.#forward(event);
      if (this.#leftToReceive > 0) this.#leftToReceive -= 1;
    }
  }

  /**
   * Sends a message in WS_MESSAGE frames within the window, waiting for credit between them:
   * the runner credits a message's first pieces as they come (they are held until it is whole
   * anyway), so one larger than the window still gets through.
   */
  async #forward(event: Extract<WebSocketReceiveEvent, { type: 'websocket.receive' }>): Promise<void> {
    const text = typeof event.text === 'string';
    const body = text ? Buffer.from(event.text ?? '', 'utf8') : asBuffer(event.bytes ?? new Uint8Array());
    let at = 0;
    for (;;) {
      const end = Math.min(body.length, at + Math.min(MAX_FRAGMENT, Math.max(this.#window, 0)));
      if (end > at || body.length === 0) {
        this.#toRunner(body.subarray(at, end), end < body.length, text);
        at = end;
        if (at >= body.length) return;
      } else {
        await this.#creditOrEnd();
        if (this.#detached()) return;
        if (this.#clientGone && this.#window <= 0) {
          // The runner drops the pieces it has when WS_CLOSE comes, which the pump sends next.
          this.#truncated = true;
          return;
        }
      }
    }
  }

  /** A client message, or a piece of one, to the runner, out of the window. */
  #toRunner(piece: Buffer, more: boolean, text: boolean): void {
    this.#window -= piece.length;
    this.#runner.send({ type: 'ws-message', stream: this.#id, more, text, body: piece });
  }

  /** Resolves on credit, on the runner's end, or when a send finds the client gone. */
  #creditOrEnd(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wakePump = resolve;
    });
  }
}

function connectFrame(id: number, scope: WebSocketScope, lendable: boolean): Parameters<RunnerProcess['send']>[0] {
  const root = Buffer.from(scope.root_path, 'utf8');
  const rawPath = asBuffer(scope.raw_path);
  // The gateway puts the root path in front of raw_path; the runner puts it back itself.
  const path = root.length > 0 && rawPath.subarray(0, root.length).equals(root) ? rawPath.subarray(root.length) : rawPath;
  const headers: Buffer[] = [];
  for (const [name, value] of scope.headers) headers.push(asBuffer(name), asBuffer(value));
  return {
    type: 'ws-connect',
    stream: id,
    method: 'GET',
    scheme: scope.scheme,
    httpVersion: scope.http_version,
    path,
    queryString: asBuffer(scope.query_string),
    rootPath: root,
    client: scope.client,
    server: scope.server === null ? null : [scope.server[0], scope.server[1] ?? 0],
    headers,
    tls: tlsHeadFrom(scope.extensions.tls as AsgiTlsExtension | undefined),
    lendable,
  };
}

/** Views the bytes as a Buffer without copying them. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The runner's headers as the gateway's events carry them: [name, value] byte strings. */
function asgiHeaders(flat: readonly string[]): [Buffer, Buffer][] {
  const pairs: [Buffer, Buffer][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([Buffer.from(flat[i] ?? '', 'latin1'), Buffer.from(flat[i + 1] ?? '', 'latin1')]);
  return pairs;
}

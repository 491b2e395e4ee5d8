// Serves HTTP requests and WebSockets with the Python app process: each request is an
// HttpRelay and each WebSocket a WebSocketRelay, on a stream of frames on fd 3 with
// credit-based flow control both ways. This host hands out stream ids, routes the runner's
// frames to their relay, lets a request reach the app only when the start gate says so,
// withdraws one sent ahead that the app has not started by the queue timeout, and when the
// process dies answers for what it may have started while the rest waits for the next process.
// Runs in the worker.
import type { AsgiWebSocketCallable } from '@bicorn/gateway';
import type { AppLoad, Frame, LimitKind } from '@bicorn/protocol';
import { IdTable } from '@bicorn/runtime/id-table';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppPulse } from './app-pulse.js';
import { CrashSuspects } from './crash-suspects.js';
import { HttpRelay, isLast, type HttpRelayOptions } from './http-relay.js';
import type { HostLog } from './log.js';
import type { RequestBody } from './request-body.js';
import type { FrameSink, RunnerProcess } from './runner-process.js';
import type { Spool } from './spool.js';
import { StartGate } from './start-gate.js';
import { WebSocketRelay } from './websocket-relay.js';

export interface PythonHostOptions {
  readonly window: number;
  readonly rootPath: string;
  /** The WSGI app's threads. */
  readonly threads: number;
  /** Requests without a body a WSGI app is sent beyond its threads, to wait in its process. */
  readonly sendAhead: number;
  /** How long a request may wait for the app to start it; 0: no limit. */
  readonly queueTimeoutMs: number;
  /** Where bodies wait on disk, and the worker's budget for them. */
  readonly spool: Spool;
  /** A WSGI app reads an upload with a Content-Length as it arrives (no_request_buffering). */
  readonly streamWsgiUploads: boolean;
  /** A request was refused with 503 for a limit: the queue timeout, or the spool budget. */
  readonly limitRejected: (kind: LimitKind) => void;
  readonly log: HostLog;
}

export class PythonHost {
  /** The Python process; undefined from its death until useRunner() brings the next one. */
  #runner: RunnerProcess | undefined;
  readonly #interface: string;
  readonly #options: PythonHostOptions;
  readonly #log: HostLog;
  // Tables by stream id, not Maps: an entry per request churns a Map into garbage that
  // survives the young generation's collections (@bicorn/runtime/id-table).
  /** Requests the app has been sent and not let go of, by stream, with the order they were sent in: each holds its place at the gate. */
  readonly #inApp = new IdTable<number>();
  #sentCount = 0;
  /** Of those, the ones whose relay still takes the runner's frames. */
  readonly #relays = new IdTable<HttpRelay>();
  /** Requests not yet sent whose body the runner receives or holds (HTTP_RECEIVE): they take its frames, and die with it. */
  readonly #holding = new IdTable<HttpRelay>();
  /** Requests sent ahead of a free thread, withdrawn when the app has not started them by the queue timeout. */
  readonly #withdrawTimers = new IdTable<NodeJS.Timeout>();
  /** Requests the app runs at once: its threads (WSGI), or Infinity (ASGI). */
  readonly #slots: number;
  readonly #sockets = new Map<number, WebSocketRelay>();
  /** Bodies the runner reads from their files, of requests ended here that it has not let go of yet. */
  readonly #bodyFiles = new Map<number, RequestBody>();
  readonly #gate: StartGate;
  #pulse: AppPulse;
  readonly #suspects = new CrashSuspects();
  #onLoad: () => void = () => undefined;
  #nextStream = 1;
  /** What relays send to: the process of the moment, nothing while there is none. */
  readonly #sink: FrameSink = {
    send: (frame) => {
      this.#runner?.send(frame);
    },
  };

  /** Every relay's, made once. */
  readonly #relayOptions: HttpRelayOptions;

  constructor(runner: RunnerProcess, options: PythonHostOptions) {
    this.#runner = runner;
    this.#interface = runner.interface;
    this.#options = options;
    this.#log = options.log;
    this.#slots = runner.interface === 'wsgi' ? options.threads : Infinity;
    this.#gate = new StartGate({
      slots: this.#slots,
      ahead: runner.interface === 'wsgi' ? options.sendAhead : 0,
      timeoutMs: options.queueTimeoutMs,
      onChange: () => {
        this.#onLoad();
      },
      isSuspect: (key) => this.#suspects.isSuspect(key, Date.now()),
    });
    this.#pulse = this.#attach(runner);
    this.#relayOptions = {
      window: options.window,
      rootPath: options.rootPath,
      interface: this.#interface,
      spool: options.spool,
      streamWsgiUploads: options.streamWsgiUploads,
      lender: () => this.#runner?.lender,
      holding: (relay, on) => {
        if (!on) return this.#holding.delete(relay.id);
        if (this.#runner === undefined) return false;
        this.#holding.set(relay.id, relay);
        return true;
      },
      log: this.#log,
      admit: (relay, bodiless, again) => this.#admit(relay, bodiless, again),
      refused: (kind) => {
        options.limitRejected(kind);
      },
      onStreamEnd: (relay, runnerStillBusy, bodyFile) => {
        this.#onStreamEnd(relay, runnerStillBusy, bodyFile);
      },
    };
  }

  /** What the app can take on now. */
  load(): AppLoad {
    return { free: this.#gate.free, waiting: this.#gate.waiting, served: this.#gate.served, blocked: this.#gate.blocked };
  }

  /**
   * Whether the request waits on the app: it went to the process, which has not let go of it,
   * and no body the app waits for is still to come from the client. One that waits to go is
   * not the app's to answer yet either. Asked only when a request times out, so it looks
   * through the requests in flight.
   */
  waitsOnApp(req: IncomingMessage): boolean {
    for (const relay of this.#relays.values()) if (relay.isFor(req)) return !relay.awaitsClient;
    return false;
  }

  /** `listener` runs whenever load() may have changed. */
  watchLoad(listener: () => void): void {
    this.#onLoad = listener;
  }

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    new HttpRelay(this.#newStreamId(), this.#sink, req, res, this.#relayOptions).run();
  };

  /** The gateway runs this for each WebSocket: it relays the connection to the Python app. */
  readonly websocket: AsgiWebSocketCallable = async (scope, receive, send, port) => {
    const runner = this.#runner;
    if (runner === undefined) {
      throw new Error('the Python process has died, and its replacement is not ready yet');
    }
    const id = this.#newStreamId();
    const relay = new WebSocketRelay(id, runner, { window: this.#options.window, log: this.#log, send, port, path: scope.path, lender: () => this.#runner?.lender });
    this.#sockets.set(id, relay);
    try {
      await relay.run(scope, receive);
    } finally {
      this.#sockets.delete(id);
    }
  };

  /** The Python process has exited: nothing more goes to it while its last frames are read. */
  runnerExited(): void {
    this.#gate.suspend();
  }

  /**
   * The Python process has died, and every frame it wrote has been read. What it may have
   * started (of what it was sent and had not finished, in the order sent, as many as it runs at
   * once: frames/SPEC.md) gets a 502 (a cut connection once its response had begun), and
   * WebSockets close; what it had not started waits for the next process (useRunner), first in
   * line, and one that keeps being in flight at deaths waits behind the others. Returns the
   * requests that were in flight, as `METHOD path`.
   */
  lostRunner(reason: Error): string[] {
    this.#runner = undefined;
    this.#pulse.close();
    this.#gate.suspend();
    for (const timer of this.#withdrawTimers.values()) clearTimeout(timer);
    this.#withdrawTimers.clear();
    for (const body of this.#bodyFiles.values()) void body.destroy();
    this.#bodyFiles.clear();
    // In the order sent (stream ids wrap around).
    const inApp = this.#inApp;
    const sent = inApp.ids().sort((a, b) => (inApp.get(a) ?? 0) - (inApp.get(b) ?? 0));
    const started: HttpRelay[] = [];
    const again: HttpRelay[] = [];
    sent.forEach((id, order) => {
      const relay = this.#relays.get(id);
      if (relay === undefined) return;
      if (order >= this.#slots && relay.resendable) again.push(relay);
      else started.push(relay);
    });
    this.#inApp.clear();
    this.#relays.clear();
    // Their bodies died with the process.
    const holding = [...this.#holding.values()];
    this.#holding.clear();
    const inFlight = started.map((relay) => relay.key);
    for (const relay of [...started, ...holding]) void relay.destroy(reason);
    for (const relay of this.#sockets.values()) relay.destroy(reason);
    // Each goes first in line: the last one first, so that they keep their order.
    for (const relay of again.reverse()) relay.requeue();
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

  /**
   * Whether the request may go to the app (start-gate.ts): at once when it may start now (most
   * do), else once it may. False: the queue timeout passed (the relay answers 503) or the client
   * left.
   */
  #admit(relay: HttpRelay, bodiless: boolean, again: boolean): boolean | Promise<boolean> {
    if (this.#runner === undefined || relay.clientGone || !this.#gate.tryTake(relay.key, bodiless)) return this.#admitLater(relay, bodiless, again);
    this.#enter(relay);
    return true;
  }

  async #admitLater(relay: HttpRelay, bodiless: boolean, again: boolean): Promise<boolean> {
    for (;;) {
      if (!(await this.#gate.take(relay.key, () => !relay.clientGone, { bodiless, again }))) {
        if (!relay.clientGone) this.#queueTimedOut(relay);
        return false;
      }
      if (relay.clientGone) {
        this.#gate.release();
        return false;
      }
      if (this.#runner !== undefined) break;
      // The process died between the gate's yes and now, and the slot with it: wait for the next.
    }
    this.#enter(relay);
    return true;
  }

  /** The relay's stream has ended for the worker (HttpRelayOptions.onStreamEnd). */
  #onStreamEnd(relay: HttpRelay, runnerStillBusy: boolean, bodyFile: RequestBody | undefined): void {
    const id = relay.id;
    // A relay of a process that died holds no slot any more (lostRunner), nor a file for it.
    if (!this.#relays.delete(id)) {
      void bodyFile?.destroy();
      return;
    }
    // Its place is free once the app has let go: now, or when the runner says so.
    if (runnerStillBusy) {
      if (bodyFile !== undefined) this.#bodyFiles.set(id, bodyFile);
      return;
    }
    this.#suspects.acquit(relay.key);
    this.#letGo(id);
  }

  /** The request holds a place at the gate and goes to the app now. */
  #enter(relay: HttpRelay): void {
    const id = relay.id;
    // All its threads are taken: it waits in the app's process, until the queue timeout.
    const queued = this.#inApp.size >= this.#slots;
    this.#inApp.set(id, this.#sentCount++);
    this.#relays.set(id, relay);
    if (queued && this.#options.queueTimeoutMs > 0) {
      this.#withdrawTimers.set(id, setTimeout(() => {
        this.#withdrawTimers.delete(id);
        this.#runner?.send({ type: 'http-withdraw', stream: id });
      }, this.#options.queueTimeoutMs));
    }
  }

  #queueTimedOut(relay: HttpRelay): void {
    this.#log.warn({ request: relay.key, waiting: this.#gate.waiting }, 'the app did not start the request within queue_timeout; answering 503');
  }

  /** The app is done with a request: its place at the gate is free. */
  #letGo(id: number): void {
    this.#dropBodyFile(id);
    if (!this.#inApp.delete(id)) return;
    this.#keep(id);
    this.#gate.release();
  }

  /** The runner has let go of the stream: the file of its body, if it read one, goes. */
  #dropBodyFile(id: number): void {
    const body = this.#bodyFiles.get(id);
    if (body === undefined) return;
    this.#bodyFiles.delete(id);
    void body.destroy();
  }

  /** The request is not to be withdrawn: the app has it, or is done with it. */
  #keep(id: number): void {
    const timer = this.#withdrawTimers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#withdrawTimers.delete(id);
  }

  #attach(runner: RunnerProcess): AppPulse {
    runner.onFrame = (frame) => {
      this.#onFrame(frame);
    };
    return new AppPulse(runner, this.#log, (responsive) => {
      this.#gate.setResponsive(responsive);
    });
  }

  #newStreamId(): number {
    const id = this.#nextStream;
    this.#nextStream = id >= 0xffff_ffff ? 1 : id + 1;
    return id;
  }

  #onFrame(frame: Frame): void {
    const relay = this.#relays.get(frame.stream) ?? this.#holding.get(frame.stream);
    // Any frame back settles the request's withdrawal: the app has it, let go of it, or never will.
    this.#keep(frame.stream);
    if (frame.type === 'http-withdrawn') {
      this.#relays.delete(frame.stream);
      this.#letGo(frame.stream);
      if (relay === undefined) return;
      this.#queueTimedOut(relay);
      relay.withdrawn();
      return;
    }
    if (relay !== undefined) {
      relay.onFrame(frame);
      return;
    }
    if (isLast(frame)) this.#letGo(frame.stream);
    const socket = this.#sockets.get(frame.stream);
    if (socket !== undefined) socket.onFrame(frame);
    else if (frame.type === 'http-error') {
      this.#log.error({ stream: frame.stream, traceback: frame.message }, 'exception in Python app after its response was over');
    }
    // Else the stream has ended here; other frames in flight may still cross.
  }
}

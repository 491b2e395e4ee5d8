// Serves HTTP requests and WebSockets with the Python app process: each request is an
// HttpRelay and each WebSocket a WebSocketRelay, on a stream of frames on fd 3 with
// credit-based flow control both ways. This host hands out stream ids, routes the runner's
// frames to their relay, lets a request reach the app only when the app can start it (the
// start gate), and when the process dies answers for what it had started while the rest waits
// for the next process. Runs in the worker.
import { failResponse, type AsgiWebSocketCallable } from '@bicorn/gateway';
import type { Frame, LimitKind, Load } from '@bicorn/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppPulse } from './app-pulse.js';
import { CrashSuspects } from './crash-suspects.js';
import { HttpRelay, isLast } from './http-relay.js';
import type { HostLog } from './log.js';
import type { FrameSink, RunnerProcess } from './runner-process.js';
import type { Spool } from './spool.js';
import { StartGate } from './start-gate.js';
import { WebSocketRelay } from './websocket-relay.js';

export interface PythonHostOptions {
  readonly window: number;
  readonly rootPath: string;
  /** The WSGI app's threads. */
  readonly threads: number;
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
  /** Requests the app has been sent and not let go of, by stream. */
  readonly #relays = new Map<number, HttpRelay>();
  readonly #sockets = new Map<number, WebSocketRelay>();
  readonly #gate: StartGate;
  #pulse: AppPulse;
  /** Streams ended here that the app may still be running: each holds its slot until it lets go. */
  readonly #letGo = new Set<number>();
  readonly #suspects = new CrashSuspects();
  #onLoad: () => void = () => undefined;
  #nextStream = 1;
  /** What relays send to: the process of the moment, nothing while there is none. */
  readonly #sink: FrameSink = {
    send: (frame) => {
      this.#runner?.send(frame);
    },
  };

  constructor(runner: RunnerProcess, options: PythonHostOptions) {
    this.#runner = runner;
    this.#interface = runner.interface;
    this.#options = options;
    this.#log = options.log;
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
    const id = this.#newStreamId();
    const relay: HttpRelay = new HttpRelay(id, this.#sink, req, res, {
      window: this.#options.window,
      rootPath: this.#options.rootPath,
      interface: this.#interface,
      spool: this.#options.spool,
      streamWsgiUploads: this.#options.streamWsgiUploads,
      log: this.#log,
      admit: () => this.#admit(id, relay, req, res),
      refused: (kind) => {
        this.#options.limitRejected(kind);
      },
      onStreamEnd: (runnerStillBusy) => {
        // A relay of a process that died holds no slot any more (lostRunner).
        if (!this.#relays.delete(id)) return;
        // Its slot is free once the app has let go: now, or when the runner says so.
        if (runnerStillBusy) this.#letGo.add(id);
        else {
          this.#suspects.acquit(relay.key);
          this.#gate.release();
        }
      },
    });
    relay.start().catch((error: unknown) => {
      this.#log.error({ err: error, method: req.method, path: req.url }, 'failed to relay a request to the Python process');
      failResponse(res);
    });
  };

  /** The gateway runs this for each WebSocket: it relays the connection to the Python app. */
  readonly websocket: AsgiWebSocketCallable = async (scope, receive, send) => {
    const runner = this.#runner;
    if (runner === undefined) {
      throw new Error('the Python process has died, and its replacement is not ready yet');
    }
    const id = this.#newStreamId();
    const relay = new WebSocketRelay(id, runner, { window: this.#options.window, log: this.#log, send, path: scope.path });
    this.#sockets.set(id, relay);
    try {
      await relay.run(scope, receive);
    } finally {
      this.#sockets.delete(id);
    }
  };

  /**
   * The Python process has died. What it had started gets a 502 (a cut connection once its
   * response had begun), and WebSockets close; what it had not started waits for the next
   * process (useRunner), and one that keeps being in flight at deaths waits behind the others.
   * Returns the requests that were in flight, as `METHOD path`.
   */
  lostRunner(reason: Error): string[] {
    this.#runner = undefined;
    this.#pulse.close();
    this.#gate.suspend();
    this.#letGo.clear();
    const started = [...this.#relays.values()];
    this.#relays.clear();
    const inFlight = started.map((relay) => relay.key);
    for (const relay of started) void relay.destroy(reason);
    for (const relay of this.#sockets.values()) relay.destroy(reason);
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
   * Waits until the app can start the request (what it receives, it has started). False: the
   * queue timeout passed (the relay answers 503) or the client left.
   */
  async #admit(id: number, relay: HttpRelay, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    for (;;) {
      if (!(await this.#gate.take(relay.key, () => !res.destroyed))) {
        if (!res.destroyed) this.#log.warn({ method: req.method, path: req.url, waiting: this.#gate.waiting }, 'the app did not start the request within queue_timeout; answering 503');
        return false;
      }
      if (res.destroyed) {
        this.#gate.release();
        return false;
      }
      if (this.#runner !== undefined) break;
      // The process died between the gate's yes and now, and the slot with it: wait for the next.
    }
    this.#relays.set(id, relay);
    return true;
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
    const relay = this.#relays.get(frame.stream);
    if (relay !== undefined) {
      relay.onFrame(frame);
      return;
    }
    if (isLast(frame) && this.#letGo.delete(frame.stream)) this.#gate.release();
    const socket = this.#sockets.get(frame.stream);
    if (socket !== undefined) socket.onFrame(frame);
    else if (frame.type === 'http-error') {
      this.#log.error({ stream: frame.stream, traceback: frame.message }, 'exception in Python app after its response was over');
    }
    // Else the stream has ended here; other frames in flight may still cross.
  }
}

// Serves HTTP requests and WebSockets with the Python app process: each request is an
// HttpRelay and each WebSocket a WebSocketRelay, on a stream of frames on fd 3 with
// credit-based flow control both ways. This host hands out stream ids, routes the runner's
// frames to their relay, and answers for them all when the process dies. Runs in the worker.
import { failResponse, type AsgiWebSocketCallable } from '@bicorn/gateway';
import type { Frame } from '@bicorn/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRelay } from './http-relay.js';
import type { HostLog } from './log.js';
import type { RunnerProcess } from './runner-process.js';
import { WebSocketRelay } from './websocket-relay.js';

const BAD_GATEWAY = Buffer.from('Bad Gateway\n');
const BAD_GATEWAY_HEADERS = { 'content-type': 'text/plain', 'content-length': BAD_GATEWAY.length, connection: 'close' };

export class PythonHost {
  readonly #runner: RunnerProcess;
  readonly #window: number;
  readonly #rootPath: string;
  readonly #log: HostLog;
  readonly #relays = new Map<number, HttpRelay>();
  readonly #sockets = new Map<number, WebSocketRelay>();
  #nextStream = 1;
  /** The Python process has died: every request gets a 502. */
  #dead = false;

  constructor(runner: RunnerProcess, options: { window: number; rootPath: string; log: HostLog }) {
    this.#runner = runner;
    this.#window = options.window;
    this.#rootPath = options.rootPath;
    this.#log = options.log;
    runner.onFrame = (frame) => {
      this.#onFrame(frame);
    };
  }

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.#dead) {
      res.writeHead(502, BAD_GATEWAY_HEADERS);
      res.end(BAD_GATEWAY);
      return;
    }
    const id = this.#newStreamId();
    const relay = new HttpRelay(id, this.#runner, req, res, {
      window: this.#window,
      rootPath: this.#rootPath,
      interface: this.#runner.interface,
      log: this.#log,
      onStreamEnd: () => this.#relays.delete(id),
    });
    this.#relays.set(id, relay);
    relay.start().catch((error: unknown) => {
      this.#log.error({ err: error, method: req.method, path: req.url }, 'failed to relay a request to the Python process');
      failResponse(res);
    });
  };

  /** The gateway runs this for each WebSocket: it relays the connection to the Python app. */
  readonly websocket: AsgiWebSocketCallable = async (scope, receive, send) => {
    if (this.#dead) {
      throw new Error('the Python process has died; this worker is being replaced');
    }
    const id = this.#newStreamId();
    const relay = new WebSocketRelay(id, this.#runner, { window: this.#window, log: this.#log, send, path: scope.path });
    this.#sockets.set(id, relay);
    try {
      await relay.run(scope, receive);
    } finally {
      this.#sockets.delete(id);
    }
  };

  /**
   * The Python process has died: answers what is in flight (502, or a cut connection once a
   * response had started) and every request after it. Resolves once the answers are out.
   */
  async destroy(reason: Error): Promise<void> {
    this.#dead = true;
    const answered = [...this.#relays.values()].map((relay) => relay.destroy(reason));
    this.#relays.clear();
    for (const relay of this.#sockets.values()) relay.destroy(reason);
    await Promise.all(answered);
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
    const socket = this.#sockets.get(frame.stream);
    if (socket !== undefined) socket.onFrame(frame);
    else if (frame.type === 'http-error') {
      this.#log.error({ stream: frame.stream, traceback: frame.message }, 'exception in Python app after its response was over');
    }
    // Else the stream has ended here; other frames in flight may still cross.
  }
}

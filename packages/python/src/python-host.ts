// Serves HTTP requests with the Python app process: each request is a stream of frames on
// fd 3, with credit-based flow control both ways. A request body is received whole first
// (request-body.ts), so a slow client never holds a Python thread; a response goes to the
// client as fast as it reads, and the app waits for credit beyond the window. Runs in the
// worker, per request.
import { failResponse } from '@bicorn/gateway';
import type { Frame, FrameOf } from '@bicorn/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostLog } from './log.js';
import { RequestBody } from './request-body.js';
import type { RunnerProcess } from './runner-process.js';

interface Stream {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Request body bytes the runner will still accept. */
  window: number;
  /** What is left of the request body to send; undefined once the last frame has gone. */
  body: RequestBody | undefined;
  /** A read of the body is under way. */
  pumping: boolean;
  /** Response bytes written to the client's socket buffer but not yet drained, nor credited. */
  uncredited: number;
}

const BODY_CHUNK = 256 * 1024;
const EMPTY = Buffer.alloc(0);
const BAD_GATEWAY = Buffer.from('Bad Gateway\n');

export class PythonHost {
  readonly #runner: RunnerProcess;
  readonly #window: number;
  readonly #rootPath: string;
  readonly #log: HostLog;
  readonly #streams = new Map<number, Stream>();
  #nextStream = 1;

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
    void this.#serve(req, res);
  };

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    let body: RequestBody | undefined;
    if (hasBody) {
      try {
        body = await RequestBody.receive(req);
      } catch {
        return; // the client left before sending its whole body
      }
    }
    if (res.destroyed) {
      await body?.dispose();
      return;
    }
    const id = this.#nextStream;
    this.#nextStream = id >= 0xffff_ffff ? 1 : id + 1;
    const stream: Stream = { req, res, window: this.#window, body, pumping: false, uncredited: 0 };
    this.#streams.set(id, stream);
    res.on('close', () => {
      void stream.body?.dispose();
      if (this.#streams.delete(id) && !res.writableFinished) this.#runner.send({ type: 'http-disconnect', stream: id });
    });
    this.#runner.send(requestFrame(id, req, this.#rootPath, body !== undefined));
    await this.#pump(id, stream);
  }

  /**
   * Answers what is in flight when the Python process has died: 502, or a cut connection once
   * the response had started. Resolves when those answers have gone out.
   */
  async failAll(): Promise<void> {
    const answered: Promise<void>[] = [];
    for (const { res } of this.#streams.values()) {
      if (res.headersSent) {
        res.destroy();
        continue;
      }
      answered.push(new Promise((resolve) => res.once('close', resolve)));
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': BAD_GATEWAY.length, connection: 'close' });
      res.end(BAD_GATEWAY);
    }
    this.#streams.clear();
    await Promise.all(answered);
  }

  /** Sends as much of the body as the runner has credit for. */
  async #pump(id: number, stream: Stream): Promise<void> {
    if (stream.pumping) return;
    stream.pumping = true;
    try {
      while (stream.body !== undefined && stream.window > 0 && this.#streams.has(id)) {
        const piece = await stream.body.read(Math.min(stream.window, BODY_CHUNK));
        if (piece === null) {
          await stream.body.dispose();
          stream.body = undefined;
          this.#runner.send({ type: 'http-body', stream: id, more: false, body: EMPTY });
          return;
        }
        stream.window -= piece.length;
        this.#runner.send({ type: 'http-body', stream: id, more: true, body: piece });
      }
    } finally {
      stream.pumping = false;
    }
  }

  #onFrame(frame: Frame): void {
    const stream = this.#streams.get(frame.stream);
    if (stream === undefined) return; // the client left; the runner learns it from HTTP_DISCONNECT
    switch (frame.type) {
      case 'http-response':
        stream.res.writeHead(frame.status, latin1Headers(frame.headers));
        return;
      case 'http-response-body':
        this.#onResponseBody(frame, stream);
        return;
      case 'http-error':
        this.#streams.delete(frame.stream);
        this.#log.error({ method: stream.req.method, path: stream.req.url, traceback: frame.message }, 'exception in Python app');
        failResponse(stream.res);
        return;
      case 'credit':
        stream.window += frame.bytes;
        void this.#pump(frame.stream, stream);
        return;
      default:
        this.#log.error({ frame: frame.type, stream: frame.stream }, 'unexpected frame from the Python process');
    }
  }

  #onResponseBody(frame: FrameOf<'http-response-body'>, stream: Stream): void {
    const { res } = stream;
    if (!res.headersSent) res.writeHead(200);
    if (!frame.more) {
      this.#streams.delete(frame.stream);
      res.end(frame.body);
      return;
    }
    // Uncredited bytes mean a drain listener is already waiting; it credits these too.
    const firstUncredited = stream.uncredited === 0;
    stream.uncredited += frame.body.length;
    if (!res.write(frame.body)) {
      if (firstUncredited) res.once('drain', () => { this.#credit(frame.stream, stream); });
      return;
    }
    if (firstUncredited) this.#credit(frame.stream, stream);
  }

  /** Gives the runner back the window its bytes took, once they are on their way to the client. */
  #credit(id: number, stream: Stream): void {
    if (this.#streams.has(id)) this.#runner.send({ type: 'credit', stream: id, bytes: stream.uncredited });
    stream.uncredited = 0;
  }
}

function requestFrame(stream: number, req: IncomingMessage, rootPath: string, more: boolean): Parameters<RunnerProcess['send']>[0] {
  const target = req.url ?? '/';
  const query = target.indexOf('?');
  const socket = req.socket;
  return {
    type: 'http-request',
    stream,
    more,
    method: req.method ?? 'GET',
    scheme: 'http',
    httpVersion: req.httpVersion,
    path: query === -1 ? target : target.slice(0, query),
    queryString: query === -1 ? '' : target.slice(query + 1),
    rootPath,
    client: socket.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort ?? 0],
    server: socket.localAddress === undefined ? null : [socket.localAddress, socket.localPort ?? 0],
    headers: lowerCaseNames(req.rawHeaders),
  };
}

const nameCache = new Map<string, string>();

function lowerCaseNames(raw: readonly string[]): string[] {
  const flat = raw.slice();
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] ?? '';
    let lower = nameCache.get(name);
    if (lower === undefined) {
      lower = name.toLowerCase();
      if (nameCache.size < 1000) nameCache.set(name, lower);
    }
    flat[i] = lower;
  }
  return flat;
}

function latin1Headers(headers: FrameOf<'http-response'>['headers']): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name.toString('latin1'), value.toString('latin1'));
  return flat;
}

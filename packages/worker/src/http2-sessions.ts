// HTTP/2 connections (by ALPN on TLS, by their preface in cleartext): node:http2's server, which
// never listens, makes a session of each socket the front hands it, with the settings of
// http2_*; each stream's request and response go to the front's per-request path. An idle
// session closes after keep_alive; on a drain every session gets GOAWAY, and the streams in
// flight finish. Runs in the worker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Http2Server, type ServerHttp2Session, type Settings } from 'node:http2';
import type { Socket } from 'node:net';
import type { HeaderField } from './request-rules.js';
import { StreamRequest, StreamResponse } from './stream-exchange.js';

export interface Http2Options {
  /** SETTINGS sent to every client: the http2_* settings. */
  readonly settings: Pick<Settings, 'maxConcurrentStreams' | 'initialWindowSize' | 'maxFrameSize' | 'maxHeaderListSize'>;
  /** Serve HTTP/2 to TLS clients that ask for it by ALPN. */
  readonly alpn: boolean;
  /** Serve h2c to clients that start with the HTTP/2 preface (http2_cleartext prior-knowledge). */
  readonly cleartext: boolean;
  /** HTTP/1.1 is served too (http_protocols lists h1). */
  readonly http1: boolean;
}

export interface Http2SessionsOptions {
  readonly http2: Http2Options;
  readonly keepAliveMs: number;
  readonly responseHeaders: readonly HeaderField[];
  readonly dateHeader: boolean;
  /** `socket`: the connection's own (the request's is a proxy of node:http2's). */
  readonly onStream: (req: StreamRequest, res: StreamResponse, socket: Socket, expectsContinue: boolean) => void;
  /** A session closed: the drain may be complete. */
  readonly onClosed: () => void;
}

interface SessionState {
  readonly socket: Socket;
  /** Streams open. */
  streams: number;
  /** Tells the master the connection was taken, on its first stream. */
  acknowledge: (() => void) | undefined;
}

export class Http2Sessions {
  readonly #server: Http2Server<typeof IncomingMessage, typeof ServerResponse, typeof StreamRequest, typeof StreamResponse>;
  readonly #sessions = new Map<ServerHttp2Session, SessionState>();
  readonly #options: Http2SessionsOptions;
  #closing = false;
  /** The connection being handed to node:http2, which makes its session synchronously. */
  #handing: { socket: Socket; acknowledge: () => void } | undefined;

  constructor(options: Http2SessionsOptions) {
    this.#options = options;
    this.#server = createServer({
      settings: { ...options.http2.settings, enablePush: false },
      Http2ServerRequest: StreamRequest,
      Http2ServerResponse: StreamResponse,
    });
    this.#server.on('session', (session: ServerHttp2Session) => {
      this.#open(session);
    });
    this.#server.on('request', (req, res) => {
      this.#stream(req, res, false);
    });
    this.#server.on('checkContinue', (req, res) => {
      this.#stream(req, res, true);
    });
  }

  /** Sessions open. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Makes a session of `socket` (its preface may already be unshifted on it). */
  serve(socket: Socket, acknowledge: () => void): void {
    this.#handing = { socket, acknowledge };
    this.#server.emit('connection', socket);
    this.#handing = undefined;
  }

  #open(session: ServerHttp2Session): void {
    const handing = this.#handing;
    if (handing === undefined) {
      session.destroy();
      return;
    }
    const state: SessionState = { socket: handing.socket, streams: 0, acknowledge: handing.acknowledge };
    this.#sessions.set(session, state);
    session.on('stream', (stream) => {
      state.streams++;
      const acknowledge = state.acknowledge;
      state.acknowledge = undefined;
      acknowledge?.();
      stream.once('close', () => {
        state.streams--;
      });
    });
    // An idle session goes after keep_alive, with GOAWAY; one with streams open is left to the request timeout.
    session.setTimeout(this.#options.keepAliveMs, () => {
      if (state.streams === 0) session.close();
    });
    session.on('error', () => {
      // A broken connection: node closes the session; its streams' requests see it.
    });
    session.once('close', () => {
      this.#sessions.delete(session);
      const acknowledge = state.acknowledge;
      state.acknowledge = undefined;
      acknowledge?.();
      this.#options.onClosed();
    });
    if (this.#closing) session.close();
  }

  #stream(req: StreamRequest, res: StreamResponse, expectsContinue: boolean): void {
    const state = this.#sessions.get(req.stream.session as ServerHttp2Session);
    if (state === undefined) return;
    res.useDefaults(this.#options.responseHeaders, this.#options.dateHeader);
    this.#options.onStream(req, res, state.socket, expectsContinue);
  }

  /** GOAWAY on every session, now and for those still to come: their open streams finish, then they close. */
  close(): void {
    this.#closing = true;
    for (const session of this.#sessions.keys()) session.close();
  }

  destroy(): void {
    this.#closing = true;
    for (const session of this.#sessions.keys()) session.destroy();
  }
}

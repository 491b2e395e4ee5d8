// The frames between a worker and its Python app process (SPEC.md beside the package's
// frames/ folder): their types and the decoded shapes. Pure; used by workers.

export const FrameType = {
  Hello: 0x01,
  Ready: 0x02,
  Fatal: 0x03,
  Shutdown: 0x04,
  Log: 0x05,
  Ping: 0x06,
  Pong: 0x07,
  HttpRequest: 0x10,
  HttpBody: 0x11,
  HttpDisconnect: 0x12,
  HttpResponse: 0x13,
  HttpResponseBody: 0x14,
  HttpError: 0x15,
  Credit: 0x16,
  HttpTrailers: 0x17,
  HttpPathsend: 0x18,
  HttpEarlyHint: 0x19,
  HttpClosed: 0x1a,
  HttpWithdraw: 0x1b,
  HttpWithdrawn: 0x1c,
  HttpBorrow: 0x1d,
  HttpNotLent: 0x1e,
  HttpReturned: 0x1f,
  WsConnect: 0x20,
  WsAccept: 0x21,
  WsMessage: 0x22,
  WsClose: 0x23,
  HttpReceive: 0x24,
  HttpReceived: 0x25,
} as const;

export const PROTOCOL_VERSION = 11;
/** Bytes before the payload: u32 length, u8 type, u32 stream. */
export const HEADER_SIZE = 9;
export const MAX_PAYLOAD = 1024 * 1024;

/** Raw bytes on the wire. When encoding, a string stands for its latin-1 bytes. */
export type Bytes = Buffer;
/**
 * Header names and values, flat (name, value, name, value…) as node:http's rawHeaders, each
 * byte one latin-1 character: the form node:http writes them from.
 */
export type FlatHeaders = readonly string[];
export type Address = readonly [host: string, port: number];

export type Frame =
  | { readonly type: 'hello'; readonly stream: 0; readonly version: number; readonly pythonVersion: string }
  | { readonly type: 'ready'; readonly stream: 0; readonly interface: string }
  | { readonly type: 'fatal'; readonly stream: 0; readonly exitCode: number; readonly message: string }
  | { readonly type: 'shutdown'; readonly stream: 0 }
  /** One write of the app to a stream, or one log record (level > 0); sent on the log pipe, fd 4. */
  | { readonly type: 'log'; readonly stream: 0; readonly source: LogSource; readonly level: number; readonly logger: string; readonly text: string }
  | { readonly type: 'ping'; readonly stream: 0; readonly seq: number }
  | { readonly type: 'pong'; readonly stream: 0; readonly seq: number }
  /**
   * `bodyFile`: the whole body is in that file (a path the runner opens, such as
   * `/proc/<worker pid>/fd/<n>`), not in HTTP_BODY frames; `more` is then false. `lendable`:
   * the runner may borrow the client's socket to write body bytes itself (HTTP_BORROW). `held`:
   * the body is the one the runner received for this stream (HTTP_RECEIVE); `more` is then false.
   */
  | ({ readonly type: 'http-request'; readonly more: boolean; readonly bodyFile?: Bytes | undefined; readonly lendable?: boolean | undefined; readonly held?: boolean | undefined } & RequestHead)
  | { readonly type: 'http-body'; readonly stream: number; readonly more: boolean; readonly body: Bytes }
  | { readonly type: 'http-disconnect'; readonly stream: number }
  /** `trailers`: the app announced trailers, so HTTP_TRAILERS (not a body or pathsend frame) ends the response. */
  | { readonly type: 'http-response'; readonly stream: number; readonly trailers: boolean; readonly status: number; readonly headers: FlatHeaders }
  | { readonly type: 'http-response-body'; readonly stream: number; readonly more: boolean; readonly body: Bytes }
  | { readonly type: 'http-error'; readonly stream: number; readonly message: string }
  | { readonly type: 'credit'; readonly stream: number; readonly bytes: number }
  | { readonly type: 'http-trailers'; readonly stream: number; readonly headers: FlatHeaders }
  | { readonly type: 'http-pathsend'; readonly stream: number; readonly path: Bytes }
  | { readonly type: 'http-early-hint'; readonly stream: number; readonly links: readonly Bytes[] }
  | { readonly type: 'http-closed'; readonly stream: number }
  | { readonly type: 'http-withdraw'; readonly stream: number }
  | { readonly type: 'http-withdrawn'; readonly stream: number }
  /** The runner asks for the client's socket, to write the next body bytes to it itself. */
  | { readonly type: 'http-borrow'; readonly stream: number }
  /** The worker's answer to HTTP_BORROW when it keeps the socket: the body goes on in frames. */
  | { readonly type: 'http-not-lent'; readonly stream: number }
  /** The runner has closed the socket it borrowed, after writing `bytes` of the body to it. */
  | { readonly type: 'http-returned'; readonly stream: number; readonly bytes: number }
  /**
   * A request body of `length` bytes, of which the worker has `body`: the runner takes the rest
   * from the client's socket itself (HTTP_BORROW), before the request goes to the app.
   */
  | { readonly type: 'http-receive'; readonly stream: number; readonly length: number; readonly body: Bytes }
  /**
   * `bytes` more of that body came from the socket; without `more`, the runner has closed it,
   * and holds the body when it came whole (else drops it).
   */
  | { readonly type: 'http-received'; readonly stream: number; readonly more: boolean; readonly bytes: number }
  /**
   * `lendable`: the runner may frame the connection itself on the client's socket, asking for
   * it with HTTP_BORROW before WS_ACCEPT.
   */
  | ({ readonly type: 'ws-connect'; readonly lendable?: boolean | undefined } & RequestHead)
  | { readonly type: 'ws-accept'; readonly stream: number; readonly subprotocol: string; readonly headers: FlatHeaders }
  | { readonly type: 'ws-message'; readonly stream: number; readonly more: boolean; readonly text: boolean; readonly body: Bytes }
  | { readonly type: 'ws-close'; readonly stream: number; readonly code: number; readonly reason: string };

/** Where a LOG frame's text was written in the Python process; `runner` is bicorn's own runner. */
export const logSources = ['stdout', 'stderr', 'wsgi.errors', 'runner'] as const;
export type LogSource = (typeof logSources)[number];

/** The fields of a request head before its headers, each with its length first (SPEC.md): method, scheme, version, path, query, root path, client and server hosts. */
export const REQUEST_HEAD_FIELDS = 8;

/** What HTTP_REQUEST and WS_CONNECT both carry: the request line and head. */
export interface RequestHead {
  readonly stream: number;
  readonly method: string;
  readonly scheme: string;
  readonly httpVersion: string;
  readonly path: Bytes;
  readonly queryString: Bytes;
  readonly rootPath: Bytes;
  readonly client: Address | null;
  readonly server: Address | null;
  readonly headers: FlatHeaders;
  /** Set on a TLS connection: what ASGI's `tls` extension and WSGI's SSL_CLIENT_* say. */
  readonly tls?: TlsHead | undefined;
}

/** A TLS connection as the app is told of it (see ASGI's specs/tls.rst). */
export interface TlsHead {
  /** 0x0303 for TLS 1.2, 0x0304 for TLS 1.3; 0: unknown. */
  readonly version: number;
  /** The cipher suite's IANA number; 0: unknown. */
  readonly cipherSuite: number;
  /** PEM; empty when unknown. */
  readonly serverCert: string;
  /** The client certificate's subject (RFC 4514); empty without one. */
  readonly clientCertName: string;
  /** PEM, the client's certificate first; empty without one. */
  readonly clientCertChain: readonly string[];
}

export type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

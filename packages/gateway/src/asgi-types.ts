// The ASGI 3.0 HTTP types as JavaScript apps see them: byte strings are Uint8Array. Shared by
// the worker's hosts and apps.

export type ByteString = Uint8Array;
export type HeaderPair = readonly [ByteString, ByteString];

export interface AsgiVersion {
  readonly version: '3.0';
  readonly spec_version: string;
}

/** `scope.extensions`: an extension is listed only where the server implements it. */
export type AsgiExtensions = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface HttpScope {
  readonly type: 'http';
  readonly asgi: AsgiVersion;
  readonly http_version: '1.0' | '1.1' | '2';
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly path: string;
  readonly raw_path: ByteString;
  readonly query_string: ByteString;
  readonly root_path: string;
  readonly headers: readonly HeaderPair[];
  readonly client: readonly [string, number] | null;
  readonly server: readonly [string, number | null] | null;
  readonly extensions: AsgiExtensions;
  readonly state?: Record<string, unknown>;
}

export interface HttpRequestEvent {
  readonly type: 'http.request';
  readonly body: ByteString;
  readonly more_body: boolean;
}

export interface HttpDisconnectEvent {
  readonly type: 'http.disconnect';
}

export type HttpReceiveEvent = HttpRequestEvent | HttpDisconnectEvent;

export interface HttpResponseStartEvent {
  readonly type: 'http.response.start';
  readonly status: number;
  readonly headers?: Iterable<HeaderPair>;
  readonly trailers?: boolean;
}

export interface HttpResponseBodyEvent {
  readonly type: 'http.response.body';
  readonly body?: ByteString;
  readonly more_body?: boolean;
}

export interface HttpResponseTrailersEvent {
  readonly type: 'http.response.trailers';
  readonly headers?: Iterable<HeaderPair>;
  readonly more_trailers?: boolean;
}

export interface HttpResponsePathsendEvent {
  readonly type: 'http.response.pathsend';
  readonly path: string;
}

export interface HttpResponseEarlyHintEvent {
  readonly type: 'http.response.early_hint';
  readonly links: Iterable<ByteString>;
}

export type HttpSendEvent =
  | HttpResponseStartEvent
  | HttpResponseBodyEvent
  | HttpResponseTrailersEvent
  | HttpResponsePathsendEvent
  | HttpResponseEarlyHintEvent;

export type AsgiReceive = () => Promise<HttpReceiveEvent>;
export type AsgiSend = (event: HttpSendEvent) => Promise<void>;
export type AsgiApp = (scope: HttpScope, receive: AsgiReceive, send: AsgiSend) => Promise<void>;

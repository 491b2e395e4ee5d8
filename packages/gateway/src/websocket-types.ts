// The ASGI 3.0 WebSocket and lifespan types as apps and the Python relay see them. Shared by
// the worker's hosts and apps.
import type { Socket } from 'node:net';
import type { AsgiExtensions, AsgiVersion, ByteString, HeaderPair } from './asgi-types.js';

/** The readyState of an open WebSocket: the WHATWG value, which ws keeps (ws itself loads lazily). */
export const OPEN = 1;

export interface WebSocketScope {
  readonly type: 'websocket';
  readonly asgi: AsgiVersion;
  readonly http_version: '1.0' | '1.1' | '2';
  readonly scheme: 'ws' | 'wss';
  readonly path: string;
  readonly raw_path: ByteString;
  readonly query_string: ByteString;
  readonly root_path: string;
  readonly headers: readonly HeaderPair[];
  readonly client: readonly [string, number] | null;
  readonly server: readonly [string, number | null] | null;
  readonly subprotocols: readonly string[];
  readonly extensions: AsgiExtensions;
  readonly state?: Record<string, unknown>;
}

export interface WebSocketConnectEvent {
  readonly type: 'websocket.connect';
}

/** Exactly one of `bytes` and `text` is set. */
export interface WebSocketMessageEvent {
  readonly type: 'websocket.receive';
  readonly bytes?: ByteString;
  readonly text?: string;
}

export interface WebSocketDisconnectEvent {
  readonly type: 'websocket.disconnect';
  readonly code: number;
  readonly reason?: string;
}

export type WebSocketReceiveEvent = WebSocketConnectEvent | WebSocketMessageEvent | WebSocketDisconnectEvent;

/**
 * What the gateway runs for each WebSocket: an ASGI app, or a relay to one elsewhere, which may
 * send its messages through `port` instead of send() (ASGI apps take the first three).
 */
export type AsgiWebSocketCallable = (
  scope: WebSocketScope,
  receive: () => Promise<WebSocketReceiveEvent>,
  send: (event: unknown) => Promise<void>,
  port: WebSocketMessagePort,
) => unknown;

/** Messages as bytes, for a relay that moves them so: no event to build, and text not decoded only to be encoded again. */
export interface WebSocketMessagePort {
  /**
   * websocket.send of `data`, UTF-8 when `text` (the relay's to guarantee), under send()'s rules:
   * undefined when written within the send window, else a promise that settles once it is;
   * throws what send() would reject with.
   */
  sendMessage(data: Buffer, text: boolean): Promise<void> | undefined;
  /**
   * Offers each message of the client's to `take` as it comes, as its bytes (text as the UTF-8
   * ws has checked), before receive() would see it: one `take` returns false for waits for
   * receive() as it would have, and the relay keeps the order by refusing the messages after
   * it until it has taken that one through receive().
   */
  takeMessages(take: (data: Buffer, text: boolean) => boolean): void;
  /**
   * The connection's socket when its app's process could run the connection itself once it is
   * accepted: plain TCP, an HTTP/1.1 handshake, no compression to negotiate; else undefined.
   */
  socketToHandOver(): Socket | undefined;
  /**
   * Asks that the app's accept hand the connection over instead of opening it here: `taker`
   * learns which happened, and the handle returned serves once it has the socket. Call before
   * the accept goes through send().
   */
  handOver(taker: HandOverTaker): HandedOver;
}

/** The relay's side of a connection handed over at its accept. */
export interface HandOverTaker {
  /**
   * Once the 101 has gone to the kernel, with reading stopped: the socket, which the gateway
   * neither reads nor writes from then on; undefined when the accept opened the connection
   * here after all (the client sent bytes past its handshake, or left).
   */
  taken(socket: Socket | undefined): void;
  /** Drain: the taker is to close the connection with 1001. */
  goAway(): void;
}

/** What the gateway does for a connection handed over, told by the taker. */
export interface HandedOver {
  /** The connection was closed with `code` (the app was told it): the gateway's descriptor closes. */
  over(code: number): void;
  /** The taker can no longer run it (its process died): the client gets close 1011. */
  fail(): void;
}

export interface LifespanScope {
  readonly type: 'lifespan';
  readonly asgi: AsgiVersion;
  readonly state: Record<string, unknown>;
}

export type LifespanReceiveEvent = { readonly type: 'lifespan.startup' } | { readonly type: 'lifespan.shutdown' };

export type AsgiLifespanCallable = (scope: LifespanScope, receive: () => Promise<LifespanReceiveEvent>, send: (event: unknown) => Promise<void>) => unknown;

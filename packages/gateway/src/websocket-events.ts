// Validates the events an ASGI app passes to a WebSocket's send() (protocol's send/SPEC.md).
// Untrusted app output stops here: header bytes, close codes and reasons that the wire cannot
// carry throw a TypeError that names the field. Pure; runs in the worker.
import { describe, isEvent, parseHeaders, parseResponseBody, parseResponseStart, type AppEvent, type ResponseEvent } from './send-events.js';

export type WebSocketSendAction =
  | { readonly kind: 'accept'; readonly subprotocol: string | null; readonly headers: string[] }
  | { readonly kind: 'send'; readonly data: Buffer | string; readonly binary: boolean }
  | { readonly kind: 'close'; readonly code: number; readonly reason: string }
  | { readonly kind: 'deny-start'; readonly start: Extract<ResponseEvent, { kind: 'start' }> }
  | { readonly kind: 'deny-body'; readonly body: Extract<ResponseEvent, { kind: 'body' }> };

const ACCEPT = 'websocket.accept';
const SEND = 'websocket.send';
const CLOSE = 'websocket.close';
const DENY_START = 'websocket.http.response.start';
const DENY_BODY = 'websocket.http.response.body';

const MAX_REASON_BYTES = 123;

export function parseWebSocketEvent(event: unknown): WebSocketSendAction {
  if (!isEvent(event)) throw new TypeError(`send: event must be an object with a type, got ${describe(event)}`);
  switch (event.type) {
    case ACCEPT:
      return { kind: 'accept', subprotocol: parseSubprotocol(event.subprotocol), headers: parseAcceptHeaders(event.headers) };
    case SEND:
      return parseMessage(event);
    case CLOSE:
      return { kind: 'close', code: parseCode(event.code), reason: parseReason(event.reason) };
    case DENY_START:
      return { kind: 'deny-start', start: parseResponseStart(event, DENY_START) };
    case DENY_BODY:
      return { kind: 'deny-body', body: parseResponseBody(event, DENY_BODY) };
    default:
      throw new TypeError(`send: unknown event type ${describe(event.type)}; expected one of ${[ACCEPT, SEND, CLOSE, DENY_START, DENY_BODY].join(', ')}`);
  }
}

/** Whether the client offered it is the session's to check, which knows the scope. */
function parseSubprotocol(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`${ACCEPT}: subprotocol must be a string or null, got ${describe(value)}`);
  return value;
}

/** The 101's extra headers; the hop-by-hop ones stay for the worker's wire rules to drop. */
function parseAcceptHeaders(value: unknown): string[] {
  const headers = parseHeaders(value, ACCEPT);
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] ?? '').toLowerCase();
    const where = `${ACCEPT}: headers[${String(i / 2)}]`;
    if (name.startsWith('sec-websocket-')) {
      const hint = name === 'sec-websocket-protocol' ? '; pass the subprotocol field instead' : '';
      throw new TypeError(`${where} ${name} is set by the server for the handshake${hint}`);
    }
    // RFC 9110 8.6: a server must not send one in a 1xx response.
    if (name === 'content-length') throw new TypeError(`${where} content-length: a 101 response has no body`);
  }
  return headers;
}

function parseMessage(event: AppEvent): WebSocketSendAction {
  const bytes = event.bytes;
  const text = event.text;
  const hasBytes = bytes !== undefined && bytes !== null;
  const hasText = text !== undefined && text !== null;
  if (hasBytes === hasText) {
    throw new TypeError(`${SEND}: exactly one of bytes and text must be set, got ${hasBytes ? 'both' : 'neither'}`);
  }
  if (hasText) {
    if (typeof text !== 'string') throw new TypeError(`${SEND}: text must be a string, got ${describe(text)}`);
    return { kind: 'send', data: text, binary: false };
  }
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${SEND}: bytes must be a byte string (Uint8Array), got ${describe(bytes)}`);
  return { kind: 'send', data: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), binary: true };
}

/** The codes an endpoint may send (RFC 6455 7.4): 1004-1006 and 1015 are reserved for reports. */
function parseCode(value: unknown): number {
  if (value === undefined || value === null) return 1000;
  const valid =
    typeof value === 'number' && Number.isInteger(value) && ((value >= 1000 && value <= 1014 && value !== 1004 && value !== 1005 && value !== 1006) || (value >= 3000 && value <= 4999));
  if (!valid) throw new TypeError(`${CLOSE}: code must be a close code an endpoint may send (1000-1003, 1007-1014, 3000-4999), got ${describe(value)}`);
  return value;
}

function parseReason(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new TypeError(`${CLOSE}: reason must be a string, got ${describe(value)}`);
  if (Buffer.byteLength(value) > MAX_REASON_BYTES) {
    throw new TypeError(`${CLOSE}: reason must be at most ${String(MAX_REASON_BYTES)} bytes of UTF-8, got ${String(Buffer.byteLength(value))}`);
  }
  return value;
}

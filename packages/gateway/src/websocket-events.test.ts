import { describe, expect, it } from 'vitest';
import { parseWebSocketEvent } from './websocket-events.js';
import { advanceWebSocket, type WebSocketPhase } from './websocket-order.js';

const b = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parseWebSocketEvent', () => {
  it('reads accept, send, close and the denial events with their defaults', () => {
    expect(parseWebSocketEvent({ type: 'websocket.accept' })).toEqual({ kind: 'accept', subprotocol: null, headers: [] });
    expect(parseWebSocketEvent({ type: 'websocket.accept', subprotocol: 'chat', headers: [[b('x-a'), b('1')]] })).toEqual({ kind: 'accept', subprotocol: 'chat', headers: ['x-a', '1'] });
    expect(parseWebSocketEvent({ type: 'websocket.send', text: 'hi', bytes: null })).toEqual({ kind: 'send', data: 'hi', binary: false });
    expect(parseWebSocketEvent({ type: 'websocket.send', bytes: new Uint8Array([1]) })).toEqual({ kind: 'send', data: Buffer.from([1]), binary: true });
    expect(parseWebSocketEvent({ type: 'websocket.close' })).toEqual({ kind: 'close', code: 1000, reason: '' });
    expect(parseWebSocketEvent({ type: 'websocket.close', code: 4000, reason: 'bye' })).toEqual({ kind: 'close', code: 4000, reason: 'bye' });
    expect(parseWebSocketEvent({ type: 'websocket.http.response.start', status: 401 })).toMatchObject({ kind: 'deny-start', start: { status: 401 } });
    expect(parseWebSocketEvent({ type: 'websocket.http.response.body', body: b('no') })).toMatchObject({ kind: 'deny-body', body: { more: false } });
  });

  it.each([
    [{ type: 'websocket.accept', subprotocol: 5 }, /^websocket\.accept: subprotocol must be a string or null, got number 5$/],
    [{ type: 'websocket.accept', headers: [[b('Sec-WebSocket-Protocol'), b('chat')]] }, /headers\[0\] sec-websocket-protocol is set by the server for the handshake; pass the subprotocol field instead/],
    [{ type: 'websocket.accept', headers: [[b('x'), b('a\r\nb')]] }, /^websocket\.accept: headers\[0\] value contains a control character/],
    [{ type: 'websocket.send' }, /^websocket\.send: exactly one of bytes and text must be set, got neither$/],
    [{ type: 'websocket.send', text: 'a', bytes: b('a') }, /got both$/],
    [{ type: 'websocket.send', text: 5 }, /^websocket\.send: text must be a string, got number 5$/],
    [{ type: 'websocket.send', bytes: 'a' }, /^websocket\.send: bytes must be a byte string/],
    [{ type: 'websocket.close', code: 1006 }, /^websocket\.close: code must be a close code an endpoint may send/],
    [{ type: 'websocket.close', code: 2000 }, /got number 2000$/],
    [{ type: 'websocket.close', reason: 'x'.repeat(124) }, /^websocket\.close: reason must be at most 123 bytes of UTF-8, got 124$/],
    [{ type: 'websocket.http.response.start', status: 101 }, /^websocket\.http\.response\.start: status must be an integer from 200 to 599/],
    [{ type: 'websocket.receive' }, /^send: unknown event type the string "websocket.receive"/],
  ])('refuses %j with a message naming the field', (event, message) => {
    expect(() => parseWebSocketEvent(event)).toThrow(message);
  });
});

describe('advanceWebSocket', () => {
  const accept = parseWebSocketEvent({ type: 'websocket.accept' });
  const message = parseWebSocketEvent({ type: 'websocket.send', text: 'a' });
  const close = parseWebSocketEvent({ type: 'websocket.close' });
  const start = parseWebSocketEvent({ type: 'websocket.http.response.start', status: 403 });
  const more = parseWebSocketEvent({ type: 'websocket.http.response.body', more_body: true });
  const last = parseWebSocketEvent({ type: 'websocket.http.response.body' });
  const at = (phase: WebSocketPhase, action: typeof accept) => advanceWebSocket(phase, action);

  it('moves handshake → open → closed, or through a denial response', () => {
    expect(at('handshake', accept)).toEqual({ ok: true, phase: 'open' });
    expect(at('open', message)).toEqual({ ok: true, phase: 'open' });
    expect(at('open', close)).toEqual({ ok: true, phase: 'closed' });
    expect(at('handshake', close)).toEqual({ ok: true, phase: 'closed' });
    expect(at('handshake', start)).toEqual({ ok: true, phase: 'denying' });
    expect(at('denying', more)).toEqual({ ok: true, phase: 'denying' });
    expect(at('denying', last)).toEqual({ ok: true, phase: 'closed' });
  });

  it('names the rule an app breaks', () => {
    expect(at('handshake', message)).toEqual({ ok: false, rule: 'websocket.send sent before websocket.accept' });
    expect(at('open', accept)).toEqual({ ok: false, rule: 'websocket.accept sent twice' });
    expect(at('open', start)).toEqual({ ok: false, rule: 'websocket.http.response.start sent after websocket.accept' });
    expect(at('denying', accept)).toEqual({ ok: false, rule: 'websocket.accept sent during a websocket.http.response' });
    expect(at('closed', message)).toEqual({ ok: false, rule: 'websocket.send sent after the WebSocket was closed or denied' });
    expect(at('handshake', last)).toEqual({ ok: false, rule: 'websocket.http.response.body sent before websocket.http.response.start' });
  });
});

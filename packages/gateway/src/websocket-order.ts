// The ASGI WebSocket send() order as a pure state machine: accept, close or a denial response
// first; messages only once accepted; nothing after the close. Runs in the worker.
import { assertNever } from '@bicorn/protocol';
import type { WebSocketSendAction } from './websocket-events.js';

export type WebSocketPhase = 'handshake' | 'denying' | 'open' | 'closed';

export type WebSocketVerdict = { readonly ok: true; readonly phase: WebSocketPhase } | { readonly ok: false; readonly rule: string };

const NAMES: Record<WebSocketSendAction['kind'], string> = {
  accept: 'websocket.accept',
  send: 'websocket.send',
  close: 'websocket.close',
  'deny-start': 'websocket.http.response.start',
  'deny-body': 'websocket.http.response.body',
};

export function advanceWebSocket(phase: WebSocketPhase, action: WebSocketSendAction): WebSocketVerdict {
  const name = NAMES[action.kind];
  switch (phase) {
    case 'handshake':
      switch (action.kind) {
        case 'accept':
          return { ok: true, phase: 'open' };
        case 'close':
          return { ok: true, phase: 'closed' };
        case 'deny-start':
          return { ok: true, phase: 'denying' };
        case 'send':
          return { ok: false, rule: 'websocket.send sent before websocket.accept' };
        case 'deny-body':
          return { ok: false, rule: 'websocket.http.response.body sent before websocket.http.response.start' };
        default:
          return assertNever(action, 'websocket action');
      }
    case 'denying':
      if (action.kind === 'deny-body') return { ok: true, phase: action.body.more ? 'denying' : 'closed' };
      if (action.kind === 'deny-start') return { ok: false, rule: 'websocket.http.response.start sent twice' };
      return { ok: false, rule: `${name} sent during a websocket.http.response` };
    case 'open':
      if (action.kind === 'send') return { ok: true, phase: 'open' };
      if (action.kind === 'close') return { ok: true, phase: 'closed' };
      if (action.kind === 'accept') return { ok: false, rule: 'websocket.accept sent twice' };
      return { ok: false, rule: `${name} sent after websocket.accept` };
    case 'closed':
      return { ok: false, rule: `${name} sent after the WebSocket was closed or denied` };
    default:
      return assertNever(phase, 'websocket phase');
  }
}

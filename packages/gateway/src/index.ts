// The public surface of @bicorn/gateway: HTTP, WebSocket and lifespan ⇄ ASGI for node:http.
// Used in the worker.
export type {
  AsgiApp,
  AsgiExtensions,
  AsgiReceive,
  AsgiSend,
  AsgiVersion,
  ByteString,
  HeaderPair,
  HttpDisconnectEvent,
  HttpReceiveEvent,
  HttpRequestEvent,
  HttpResponseBodyEvent,
  HttpResponseEarlyHintEvent,
  HttpResponsePathsendEvent,
  HttpResponseStartEvent,
  HttpResponseTrailersEvent,
  HttpScope,
  HttpSendEvent,
} from './asgi-types.js';
export type {
  AsgiLifespanCallable,
  AsgiWebSocketCallable,
  HandedOver,
  HandOverTaker,
  LifespanReceiveEvent,
  LifespanScope,
  WebSocketConnectEvent,
  WebSocketDisconnectEvent,
  WebSocketMessageEvent,
  WebSocketMessagePort,
  WebSocketReceiveEvent,
  WebSocketScope,
} from './websocket-types.js';
export { ClientDisconnected } from './client-disconnected.js';
export { declaredLength, isByteCount, lengthViolation } from './content-length.js';
export { cutResponse, failResponse } from './fail-response.js';
export { bodyFollows } from './request-framing.js';
export { RETRY_AFTER, serviceUnavailable } from './service-unavailable.js';
export { writePlainResponse } from './handshake-response.js';
export { buildHttpScope, splitTarget, type HttpScopeInput } from './http-scope.js';
export { addLentBytes, addLentReadBytes, lentBytes, lentReadBytes } from './lent-bytes.js';
export { LifespanFailed, runLifespan, type Lifespan, type LifespanLog, type LifespanMode } from './lifespan.js';
export type { GatewayLog } from './log.js';
export { parseSendEvent, type ResponseEvent } from './send-events.js';
export { requestOrigin, setRequestOrigin, type RequestOrigin } from './request-origin.js';
export { advance, type OrderVerdict, type ResponsePhase, type ResponseStep } from './response-order.js';
export { sendFile } from './send-file.js';
export { serveAsgiHttp, type AsgiCallable, type ServeAsgiHttpOptions } from './serve-http.js';
export { tlsExtensionOf, type AsgiTlsExtension } from './tls-extension.js';
export { waitForDrain } from './wait-for-drain.js';
export { WebSocketGateway, type WebSocketGatewayOptions } from './websocket-gateway.js';
export { buildWebSocketScope } from './websocket-scope.js';
export { applyWireRules, dropHopByHop, sendEarlyHints, type HopByHop } from './wire-rules.js';

// The public surface of @bicorn/gateway: HTTP ⇄ ASGI for node:http. Used in the worker.
export type {
  AsgiApp,
  AsgiReceive,
  AsgiSend,
  AsgiVersion,
  ByteString,
  HeaderPair,
  HttpDisconnectEvent,
  HttpReceiveEvent,
  HttpRequestEvent,
  HttpResponseBodyEvent,
  HttpResponseStartEvent,
  HttpScope,
  HttpSendEvent,
} from './asgi-types.js';
export { ClientDisconnected } from './client-disconnected.js';
export { failResponse } from './fail-response.js';
export { buildHttpScope, type HttpScopeInput } from './http-scope.js';
export type { GatewayLog } from './log.js';
export { parseSendEvent, type ResponseEvent } from './send-events.js';
export { advance, type OrderVerdict, type ResponsePhase } from './response-order.js';
export { serveAsgiHttp, type AsgiCallable, type ServeAsgiHttpOptions } from './serve-http.js';
export { waitForDrain } from './wait-for-drain.js';

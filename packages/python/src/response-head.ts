// The response head the Python app gave, as node:http writes it, with the wire rules of
// protocol's send/SPEC.md applied. Runs in the worker, per response.
import { applyWireRules, type GatewayLog } from '@bicorn/gateway';
import type { FrameOf } from '@bicorn/protocol';
import type { ServerResponse } from 'node:http';

/** The app's response head, its headers flat as node:http takes them. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: string[];
  /** The app announced trailers: HTTP_TRAILERS ends the response. */
  readonly trailers: boolean;
}

/** What a response gets when a body frame comes without a head (the runner always sends one). */
export const DEFAULT_HEAD: ResponseHead = { status: 200, headers: [], trailers: false };

/** The head of HTTP_RESPONSE, its hop-by-hop headers dropped and Connection: close honoured on `res`. */
export function responseHead(frame: FrameOf<'http-response'>, res: ServerResponse, log: GatewayLog): ResponseHead {
  // A copy: the wire rules and writeHead edit it.
  const headers = frame.headers.slice();
  applyWireRules(res, headers, frame.trailers, log);
  return { status: frame.status, headers, trailers: frame.trailers };
}

/**
 * Writes the head (editing its headers in place: a head is written once). When the first body
 * frame is also the last, its length is the whole body's: a Content-Length then spares chunked
 * encoding (and lets HTTP/1.0 keep alive), except where a response carries no body (HEAD, 204,
 * 304), whose Content-Length only the app can give.
 */
export function writeHead(res: ServerResponse, head: ResponseHead, wholeBody: number | undefined): void {
  const { status, headers } = head;
  if (wholeBody !== undefined && res.req.method !== 'HEAD' && status !== 204 && status !== 304 && !hasName(headers, 'content-length')) {
    headers.push('content-length', String(wholeBody));
  }
  res.writeHead(status, headers);
}

function hasName(flat: readonly string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true;
  return false;
}

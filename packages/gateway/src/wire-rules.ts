// The rules an app's response meets on the wire, whatever the app (protocol's send/SPEC.md):
// the fields of one connection are the server's, so the app's are dropped, a Connection
// listing close closing the connection after the response; Trailer stays only on a response
// that sends trailers; early hints go only where a 103 can. Runs in the worker, per response,
// for JS and Python apps alike.
import type { ServerResponse } from 'node:http';
import type { GatewayLog } from './log.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

export interface HopByHop {
  /** The names dropped, lower-cased, in order. */
  readonly dropped: string[];
  /** A Connection header listed `close`. */
  close: boolean;
}

/**
 * Drops the hop-by-hop fields from flat name, value pairs, in place. `trailers`: the response
 * sends trailers, so its Trailer header stays. Undefined when there were none (the usual case,
 * which allocates nothing).
 */
export function dropHopByHop(headers: string[], trailers: boolean): HopByHop | undefined {
  let found: HopByHop | undefined;
  let kept = 0;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    const value = headers[i + 1] ?? '';
    const lower = hopByHopName(name, trailers);
    if (lower !== undefined) {
      found ??= { dropped: [], close: false };
      found.dropped.push(lower);
      if (lower === 'connection' && listsClose(value)) found.close = true;
      continue;
    }
    if (found !== undefined) {
      headers[kept] = name;
      headers[kept + 1] = value;
    }
    kept += 2;
  }
  if (found !== undefined) headers.length = kept;
  return found;
}

/**
 * Applies the wire rules to a head about to be written (its headers edited in place): one
 * debug line names what was dropped, and a Connection: close is honoured on HTTP/1.x, where
 * node then sends its own and closes the connection after this response.
 */
export function applyWireRules(res: ServerResponse, headers: string[], trailers: boolean, log: GatewayLog): void {
  const found = dropHopByHop(headers, trailers);
  if (found === undefined) return;
  log.debug({ dropped: found.dropped, method: res.req.method, path: res.req.url }, 'hop-by-hop headers from the app dropped');
  if (found.close && res.req.httpVersionMajor === 1) res.shouldKeepAlive = false;
}

/** The lower-cased name when it is a hop-by-hop field, else undefined; most names are ruled out by their length. */
function hopByHopName(name: string, trailers: boolean): string | undefined {
  switch (name.length) {
    case 2:
    case 7:
    case 10:
    case 16:
    case 17:
      break;
    default:
      return undefined;
  }
  const lower = name.toLowerCase();
  if (HOP_BY_HOP.has(lower) || (lower === 'trailer' && !trailers)) return lower;
  return undefined;
}

/** Whether a Connection value lists the `close` option (RFC 9110 7.6.1: a comma-separated list of tokens). */
function listsClose(value: string): boolean {
  return value.split(',').some((option) => option.trim().toLowerCase() === 'close');
}

/**
 * Sends a 103 Early Hints with the links, unless the client cannot take a 1xx (HTTP/1.0),
 * there are none, or the response head is already out.
 */
export function sendEarlyHints(res: ServerResponse, links: readonly string[]): void {
  if (links.length === 0 || res.headersSent || (res.req.httpVersionMajor === 1 && res.req.httpVersionMinor === 0)) return;
  res.writeEarlyHints({ link: [...links] });
}

// The response head the Python app gave, as node:http writes it. Runs in the worker, per response.
import type { FrameOf } from '@bicorn/protocol';
import type { ServerResponse } from 'node:http';

/** The app's response head, its headers flat and decoded as node:http takes them. */
export interface ResponseHead {
  readonly status: number;
  readonly headers: string[];
}

export function responseHead(frame: FrameOf<'http-response'>): ResponseHead {
  return { status: frame.status, headers: latin1Headers(frame.headers) };
}

/**
 * Writes the head the app gave (editing its headers in place: a head is written once). When
 * the first body frame is also the last, its length is the whole body's: a Content-Length then
 * spares chunked encoding (and lets HTTP/1.0 keep alive). An app's `Transfer-Encoding: chunked`
 * (the runner lets no other value through) asks for no Content-Length: it is left to node,
 * which then chunks for HTTP/1.1 and ends an HTTP/1.0 body by closing the connection, as node
 * would send chunks even to a client that cannot read them.
 */
export function writeHead(res: ServerResponse, head: ResponseHead | undefined, wholeBody: number | undefined): void {
  const status = head?.status ?? 200;
  const headers = head?.headers ?? [];
  const chunked = dropName(headers, 'transfer-encoding');
  if (wholeBody !== undefined && !chunked && status !== 204 && status !== 304 && !hasName(headers, 'content-length')) {
    headers.push('content-length', String(wholeBody));
  }
  res.writeHead(status, headers);
}

/** Removes the pairs named `name` (lower-case, as the runner sends names); whether there were any. */
function dropName(flat: string[], name: string): boolean {
  let found = false;
  for (let i = flat.length - 2; i >= 0; i -= 2) {
    if (flat[i] === name) {
      flat.splice(i, 2);
      found = true;
    }
  }
  return found;
}

function hasName(flat: readonly string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true;
  return false;
}

function latin1Headers(headers: FrameOf<'http-response'>['headers']): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name.toString('latin1'), value.toString('latin1'));
  return flat;
}

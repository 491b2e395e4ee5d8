// The rules of RFC 9110 and RFC 9112 that node:http's parser leaves to the server, and the
// request limits, checked on a request's head (and a chunked body's trailers) before any app
// host sees it. Pure: it reads the request line and the raw header list, not node:http's
// objects, so that HTTP/2 can be held to the same rules. Runs in the worker, once per request.
import type { LimitKind } from '@bicorn/protocol';

export interface RequestLimits {
  /** The longest request line, without its CRLF; 0: none of its own. */
  readonly line: number;
  /** The most header fields; 0: none of its own. */
  readonly fields: number;
  /** The largest field, counted as `Name: value` and its CRLF; 0: none of its own. */
  readonly fieldSize: number;
  /** The largest body; null: none. */
  readonly body: number | null;
}

export interface RequestHead {
  readonly method: string;
  /** The request target as on the wire (a latin-1 string). */
  readonly target: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Alternating names and values as they came, as in `IncomingMessage.rawHeaders`. */
  readonly rawHeaders: readonly string[];
  /** It came on an HTTP/2 stream (version 2.0), not on an HTTP/1 request line. */
  readonly stream?: boolean;
}

export type HeaderField = readonly [name: string, value: string];

export interface Refusal {
  readonly status: number;
  /** Which rule, for the debug log. */
  readonly reason: string;
  /** Extra headers for the answer. */
  readonly headers?: readonly HeaderField[];
  /** The limit it enforces where the status does not say (a 503 of limit_concurrency). */
  readonly limit?: LimitKind;
}

/** What the rest of the front needs from a head that passed: the fields it acts on, each joined as one list. */
export interface HeadFields {
  host: string | undefined;
  /** The body is chunked (Transfer-Encoding: chunked, the only coding that passes). */
  chunked: boolean;
  contentLength: string | undefined;
  xForwardedFor: string | undefined;
  xForwardedProto: string | undefined;
  xForwardedHost: string | undefined;
  xForwardedPort: string | undefined;
  xForwardedPrefix: string | undefined;
  forwarded: string | undefined;
}

export type HeadVerdict = { readonly ok: true; readonly fields: HeadFields } | { readonly ok: false; readonly refusal: Refusal };

/** A limit at 0 has no bound of its own; its part of the cap on a whole head is this. */
export const UNBOUNDED_PART = 1024 * 1024;

/**
 * The cap node:http puts on a whole head (it counts the target, field names and values): as
 * large as the largest head the limits let through, so that node never refuses what they
 * allow, and a head over it is refused before it is all read.
 */
export function headCap(limits: RequestLimits): number {
  const line = limits.line > 0 ? limits.line : UNBOUNDED_PART;
  const fields = limits.fields > 0 && limits.fieldSize > 0 ? limits.fields * limits.fieldSize : UNBOUNDED_PART;
  return line + fields;
}

/** `METHOD SP target SP HTTP/x.y`: the bytes of a request line besides its method and target. */
const LINE_OVERHEAD = 2 + 'HTTP/1.1'.length;
/** `Name: value\r\n`: the bytes of a field besides its name and value. */
const FIELD_OVERHEAD = 4;

// RFC 9110 7.2 and RFC 3986 3.2.2: uri-host [ ":" port ], with an IP literal in brackets.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::\d*)?$/;

/** Whether a Host value (or a forwarded one) is `host[:port]`. */
export function isHost(value: string): boolean {
  return HOST.test(value);
}

// Names are lower-cased once each, as the other per-request header passes do.
const NAME_CACHE_LIMIT = 512;
const lowerNames = new Map<string, string>();

export function lowerCaseName(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size < NAME_CACHE_LIMIT) lowerNames.set(name, lower);
  }
  return lower;
}

export function checkRequestHead(head: RequestHead, limits: RequestLimits): HeadVerdict {
  // RFC 9110 6.2: a server answers 505 to a major version it does not serve; HTTP/2 comes on
  // its own connections, never on an HTTP/1 request line.
  if (head.versionMajor !== (head.stream === true ? 2 : 1)) return refuse(505, `HTTP/${String(head.versionMajor)}.${String(head.versionMinor)} on an HTTP/1 connection`);
  const http10 = head.versionMajor === 1 && head.versionMinor === 0;
  if (limits.line > 0 && head.method.length + head.target.length + LINE_OVERHEAD > limits.line) {
    return refuse(414, `request line longer than limit_request_line (${String(limits.line)} bytes)`);
  }
  const raw = head.rawHeaders;
  if (limits.fields > 0 && raw.length / 2 > limits.fields) {
    return refuse(431, `more than limit_request_fields (${String(limits.fields)}) header fields`);
  }
  const fields: HeadFields = {
    host: undefined,
    chunked: false,
    contentLength: undefined,
    xForwardedFor: undefined,
    xForwardedProto: undefined,
    xForwardedHost: undefined,
    xForwardedPort: undefined,
    xForwardedPrefix: undefined,
    forwarded: undefined,
  };
  let hosts = 0;
  let contentTypes = 0;
  let transferEncoding: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    if (limits.fieldSize > 0 && name.length + value.length + FIELD_OVERHEAD > limits.fieldSize) {
      return refuse(431, `a header field longer than limit_request_field_size (${String(limits.fieldSize)} bytes)`);
    }
    switch (lowerCaseName(name)) {
      case 'host':
        hosts++;
        fields.host = value;
        break;
      case 'content-type':
        contentTypes++;
        break;
      case 'content-length':
        fields.contentLength = value;
        break;
      case 'transfer-encoding':
        transferEncoding = joined(transferEncoding, value);
        break;
      case 'x-forwarded-for':
        fields.xForwardedFor = joined(fields.xForwardedFor, value);
        break;
      case 'x-forwarded-proto':
        fields.xForwardedProto = joined(fields.xForwardedProto, value);
        break;
      case 'x-forwarded-host':
        fields.xForwardedHost = joined(fields.xForwardedHost, value);
        break;
      case 'x-forwarded-port':
        fields.xForwardedPort = joined(fields.xForwardedPort, value);
        break;
      case 'x-forwarded-prefix':
        fields.xForwardedPrefix = joined(fields.xForwardedPrefix, value);
        break;
      case 'forwarded':
        fields.forwarded = joined(fields.forwarded, value);
        break;
    }
  }
  // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0, and a valid one
  // (HTTP/2's :authority, RFC 9113 8.3.1, comes as Host, and may be absent).
  if (hosts > 1) return refuse(400, 'more than one Host field');
  if (hosts === 0 && head.versionMajor === 1 && head.versionMinor >= 1) return refuse(400, 'no Host field in an HTTP/1.1 request');
  if (fields.host !== undefined && !isHost(fields.host)) return refuse(400, 'a Host field that is not host[:port]');
  // RFC 9110 5.3: a field that admits a single value cannot be repeated.
  if (contentTypes > 1) return refuse(400, 'more than one Content-Type field');
  if (transferEncoding !== undefined) {
    // RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (http10) return refuse(400, 'Transfer-Encoding in an HTTP/1.0 request');
    // node:http refuses chunked anywhere but last; any other coding is one we do not implement.
    if (transferEncoding.trim().toLowerCase() !== 'chunked') return refuse(501, `Transfer-Encoding "${transferEncoding}": only chunked is implemented`);
    fields.chunked = true;
  }
  // RFC 9112 3.2.4: the asterisk form is for OPTIONS only (the authority form, for CONNECT
  // only, node:http refuses itself).
  if (head.target === '*' && head.method !== 'OPTIONS') return refuse(400, `the * target with ${head.method}`);
  if (limits.body !== null && fields.contentLength !== undefined && Number(fields.contentLength) > limits.body) {
    return refuse(413, `Content-Length ${fields.contentLength} over limit_request_body (${String(limits.body)} bytes)`);
  }
  return { ok: true, fields };
}

// RFC 9110 6.5.1: fields that must be known before the content (framing, routing,
// authentication, request modifiers, content format) never come in a trailer; nor do the
// forwarded headers, which only the head from a trusted proxy may carry.
const FORBIDDEN_IN_TRAILERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'trailer',
  'te',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'max-forwards',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'cache-control',
  'pragma',
  'authorization',
  'proxy-authorization',
  'cookie',
  'content-type',
  'content-encoding',
  'content-range',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
]);

/** Checks a chunked body's trailer fields; a refusal names the first forbidden one. */
export function checkTrailers(rawTrailers: readonly string[], limits: RequestLimits): Refusal | undefined {
  for (let i = 0; i + 1 < rawTrailers.length; i += 2) {
    const name = rawTrailers[i] ?? '';
    if (FORBIDDEN_IN_TRAILERS.has(lowerCaseName(name))) return { status: 400, reason: `${name} in a trailer` };
    if (limits.fieldSize > 0 && name.length + (rawTrailers[i + 1] ?? '').length + FIELD_OVERHEAD > limits.fieldSize) {
      return { status: 431, reason: `a trailer field longer than limit_request_field_size (${String(limits.fieldSize)} bytes)` };
    }
  }
  if (limits.fields > 0 && rawTrailers.length / 2 > limits.fields) {
    return { status: 431, reason: `more than limit_request_fields (${String(limits.fields)}) trailer fields` };
  }
  return undefined;
}

function refuse(status: number, reason: string): HeadVerdict {
  return { ok: false, refusal: { status, reason } };
}

/** Repeated field lines are one comma-separated list (RFC 9110 5.3). */
function joined(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

// The front's decision on each request, before any app host sees it: the request rules and
// limits (request-rules.ts), on HTTP/1.1 and HTTP/2 alike, and where the request came from (the socket, what trusted
// proxies forwarded, the absolute form's authority). Runs in the worker, once per request.
import type { RequestOrigin } from '@bicorn/gateway';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import { readForwarding, type Forwarding, type ForwardingPolicy } from './forwarded.js';
import { checkRequestHead, lowerCaseName, type HeadFields, type Refusal, type RequestHead, type RequestLimits } from './request-rules.js';

export interface GateOptions {
  readonly limits: RequestLimits;
  readonly forwarding: ForwardingPolicy;
  /** root_path, unless a trusted proxy sends X-Forwarded-Prefix. */
  readonly rootPath: string;
}

export type Admission =
  | { readonly ok: true; readonly origin: RequestOrigin; readonly chunked: boolean }
  | { readonly ok: false; readonly refusal: Refusal; readonly origin: RequestOrigin };

export function admit(req: IncomingMessage, options: GateOptions): Admission {
  return admitHead(
    { method: req.method ?? '', target: req.url ?? '', versionMajor: req.httpVersionMajor, versionMinor: req.httpVersionMinor, rawHeaders: req.rawHeaders },
    req.socket,
    options,
  );
}

/**
 * An HTTP/2 stream's request, held to the same rules: its fields without the pseudo-header
 * ones, and its :authority as the Host (RFC 9113 8.3.1), which the app sees as a Host field.
 * `socket`: the connection's own (the request's is a proxy of node:http2's).
 */
export function admitStream(req: Http2ServerRequest, socket: Socket, options: GateOptions): Admission {
  const rawHeaders: string[] = [];
  let authority: string | undefined;
  let host: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    if (name.startsWith(':')) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (name === 'host') host = value;
    rawHeaders.push(name, value);
  }
  const head = { method: req.method, target: req.url, versionMajor: 2, versionMinor: 0, rawHeaders: authority === undefined || host !== undefined ? rawHeaders : [...rawHeaders, 'host', authority], stream: true };
  const admission = admitHead(head, socket, options);
  if (!admission.ok) return admission;
  if (req.method === 'CONNECT') return { ok: false, refusal: { status: 501, reason: 'CONNECT: this server is not a proxy' }, origin: admission.origin };
  if (authority !== undefined && host !== undefined && authority !== host) {
    return { ok: false, refusal: { status: 400, reason: 'a Host field that differs from :authority' }, origin: admission.origin };
  }
  return admission;
}

function admitHead(head: RequestHead, socket: Socket, options: GateOptions): Admission {
  const verdict = checkRequestHead(head, options.limits);
  if (!verdict.ok) return { ok: false, refusal: verdict.refusal, origin: originOf(head, socket, undefined, options) };
  return { ok: true, origin: originOf(head, socket, verdict.fields, options), chunked: verdict.fields.chunked };
}

function originOf(head: RequestHead, socket: Socket, fields: HeadFields | undefined, options: GateOptions): RequestOrigin {
  const forwarded = fields !== undefined && hasForwarded(fields) ? readForwarding(fields, socket.remoteAddress, options.forwarding) : undefined;
  const scheme = forwarded?.scheme ?? ('encrypted' in socket && socket.encrypted === true ? 'https' : 'http');
  const ownHost = fields?.host;
  // RFC 9112 3.2.2: with the absolute form, the target's authority is the host, not Host.
  const host = forwardedHost(forwarded, ownHost) ?? authorityOf(head.target) ?? ownHost;
  const client = forwarded?.client ?? (socket.remoteAddress === undefined ? null : [socket.remoteAddress, socket.remotePort ?? 0]);
  return {
    client,
    server: forwarded?.host !== undefined || forwarded?.port !== undefined ? serverOf(host, scheme) : socket.localAddress === undefined ? null : [socket.localAddress, socket.localPort ?? null],
    scheme,
    rawHeaders: host === ownHost || host === undefined ? head.rawHeaders : withHost(head.rawHeaders, host),
    host,
    rootPath: forwarded?.prefix ?? options.rootPath,
  };
}

function hasForwarded(fields: HeadFields): boolean {
  return (
    fields.xForwardedFor !== undefined ||
    fields.xForwardedProto !== undefined ||
    fields.xForwardedHost !== undefined ||
    fields.xForwardedPort !== undefined ||
    fields.xForwardedPrefix !== undefined ||
    fields.forwarded !== undefined
  );
}

/** The Host a trusted proxy says the client asked for, with X-Forwarded-Port as its port. */
function forwardedHost(forwarded: Forwarding | undefined, ownHost: string | undefined): string | undefined {
  if (forwarded === undefined) return undefined;
  const host = forwarded.host ?? (forwarded.port === undefined ? undefined : ownHost);
  if (host === undefined || forwarded.port === undefined) return host;
  return `${splitHost(host)[0]}:${String(forwarded.port)}`;
}

/** The authority of an absolute-form target (`http://host:port/path`). */
function authorityOf(target: string): string | undefined {
  if (target.startsWith('/')) return undefined;
  const scheme = target.indexOf('://');
  if (scheme === -1) return undefined;
  const rest = target.slice(scheme + 3);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  return at === -1 ? authority : authority.slice(at + 1);
}

/** `host[:port]` as a name and a port: `[::1]:8000` is `::1` and 8000. */
function splitHost(host: string): [string, number | undefined] {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (match === null) return [host, undefined];
  const name = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return [name, match[2] === undefined ? undefined : Number(match[2])];
}

function serverOf(host: string | undefined, scheme: 'http' | 'https'): readonly [string, number | null] | null {
  if (host === undefined) return null;
  const [name, port] = splitHost(host);
  return [name, port ?? (scheme === 'https' ? 443 : 80)];
}

/** The headers with Host set to `host` (added after the others when there was none). */
function withHost(raw: readonly string[], host: string): string[] {
  const out = [...raw];
  for (let i = 0; i + 1 < out.length; i += 2) {
    if (lowerCaseName(out[i] ?? '') === 'host') {
      out[i + 1] = host;
      return out;
    }
  }
  out.push('Host', host);
  return out;
}

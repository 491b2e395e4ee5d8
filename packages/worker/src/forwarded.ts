// What trusted proxies say of a request: the client, scheme, host, port and root path from
// X-Forwarded-For, -Proto, -Host, -Port, -Prefix and RFC 7239 Forwarded. Pure; runs in the
// worker, once per request.
//
// Which hop: each proxy appends the address it received the request from, so the list reads
// client, proxy 1, proxy 2, ... and only its right end, written by proxies we trust, can be
// believed. The client is the rightmost entry that is not itself a trusted proxy (with `*`,
// where every hop is trusted, the leftmost), as uvicorn does: a client that sends its own
// X-Forwarded-For can only add entries to the left of the one our proxy wrote. The other
// X-Forwarded lists are read at the same position from the right, clamped to their length,
// so a proxy that overwrites them (one value) and one that appends both work. A Forwarded
// element carries its own for, proto and host, so the chosen element gives all three.
import type { PeerTrust } from './peer-trust.js';
import { isHost, type HeadFields } from './request-rules.js';

export type ForwardedHeader = 'x-forwarded-for' | 'x-forwarded-proto' | 'x-forwarded-host' | 'x-forwarded-port' | 'x-forwarded-prefix' | 'forwarded';

export interface ForwardingPolicy {
  /** forwarded_allow_ips. */
  readonly trust: PeerTrust;
  /** The headers taken from a trusted peer; empty with --no-proxy-headers. */
  readonly headers: ReadonlySet<ForwardedHeader>;
}

export interface Forwarding {
  /** The client as the proxies saw it; its port is 0 when they did not say. */
  readonly client?: readonly [string, number];
  readonly scheme?: 'http' | 'https';
  /** The Host the client asked for, `host[:port]`. */
  readonly host?: string;
  readonly port?: number;
  /** The path the proxy mounts the app under: the root path. */
  readonly prefix?: string;
}

const NOTHING: Forwarding = Object.freeze({});

/** What a trusted peer's headers say; nothing for a peer not trusted. `peer` undefined: a unix socket. */
export function readForwarding(fields: HeadFields, peer: string | undefined, policy: ForwardingPolicy): Forwarding {
  const { headers, trust } = policy;
  if (headers.size === 0 || !trust.trusts(peer)) return NOTHING;
  if (headers.has('forwarded') && fields.forwarded !== undefined) return fromForwarded(fields.forwarded, trust);
  const hops = fields.xForwardedFor === undefined || !headers.has('x-forwarded-for') ? [] : listOf(fields.xForwardedFor).map(nodeOf);
  const chosen = chooseHop(hops, trust);
  // How far from the right the chosen hop is; the other lists are read at that position.
  const fromRight = chosen === undefined ? 0 : hops.length - 1 - chosen;
  const pick = (name: ForwardedHeader, value: string | undefined): string | undefined => {
    if (value === undefined || !headers.has(name)) return undefined;
    const list = listOf(value);
    return list[Math.max(0, list.length - 1 - fromRight)];
  };
  const forwarding: { -readonly [K in keyof Forwarding]: Forwarding[K] } = {};
  const client = chosen === undefined ? undefined : hops[chosen];
  if (client !== undefined) forwarding.client = client;
  const scheme = schemeOf(pick('x-forwarded-proto', fields.xForwardedProto));
  if (scheme !== undefined) forwarding.scheme = scheme;
  const host = hostOf(pick('x-forwarded-host', fields.xForwardedHost));
  if (host !== undefined) forwarding.host = host;
  const port = portOf(pick('x-forwarded-port', fields.xForwardedPort));
  if (port !== undefined) forwarding.port = port;
  const prefix = prefixOf(pick('x-forwarded-prefix', fields.xForwardedPrefix));
  if (prefix !== undefined) forwarding.prefix = prefix;
  return forwarding;
}

/** The index of the client in a list of hops, left to right; undefined for an empty list. */
function chooseHop(hops: readonly (readonly [string, number])[], trust: PeerTrust): number | undefined {
  if (hops.length === 0) return undefined;
  if (trust.any) return 0;
  for (let i = hops.length - 1; i >= 0; i--) if (!trust.trusts(hops[i]?.[0])) return i;
  // Every hop is a trusted proxy: the first of them is the client.
  return 0;
}

function fromForwarded(value: string, trust: PeerTrust): Forwarding {
  const elements = parseForwarded(value);
  const chosen = chooseHop(elements.map((element) => nodeOf(element.get('for') ?? '')), trust);
  const element = chosen === undefined ? undefined : elements[chosen];
  if (element === undefined) return NOTHING;
  const forwarding: { -readonly [K in keyof Forwarding]: Forwarding[K] } = {};
  const node = element.get('for');
  if (node !== undefined) forwarding.client = nodeOf(node);
  const scheme = schemeOf(element.get('proto'));
  if (scheme !== undefined) forwarding.scheme = scheme;
  const host = hostOf(element.get('host'));
  if (host !== undefined) forwarding.host = host;
  return forwarding;
}

/**
 * RFC 7239 4: elements separated by commas, pairs by semicolons, each `name=token` or
 * `name="quoted string"`; names are case-insensitive. A malformed pair is skipped.
 */
export function parseForwarded(value: string): Map<string, string>[] {
  const elements: Map<string, string>[] = [];
  let element = new Map<string, string>();
  let i = 0;
  while (i < value.length) {
    const char = value[i];
    if (char === ',' || char === ';') {
      if (char === ',') {
        elements.push(element);
        element = new Map();
      }
      i++;
      continue;
    }
    if (char === ' ' || char === '\t') {
      i++;
      continue;
    }
    const equals = value.indexOf('=', i);
    const stop = nextSeparator(value, i);
    if (equals === -1 || equals > stop) {
      i = stop;
      continue;
    }
    const name = value.slice(i, equals).trim().toLowerCase();
    let pairValue: string;
    if (value[equals + 1] === '"') {
      let end = equals + 2;
      let text = '';
      while (end < value.length && value[end] !== '"') {
        if (value[end] === '\\') end++;
        text += value[end] ?? '';
        end++;
      }
      pairValue = text;
      i = end + 1;
    } else {
      const end = nextSeparator(value, equals + 1);
      pairValue = value.slice(equals + 1, end).trim();
      i = end;
    }
    if (!element.has(name)) element.set(name, pairValue);
  }
  elements.push(element);
  return elements.filter((e) => e.size > 0);
}

function nextSeparator(value: string, from: number): number {
  for (let i = from; i < value.length; i++) if (value[i] === ',' || value[i] === ';') return i;
  return value.length;
}

function listOf(value: string): string[] {
  if (!value.includes(',')) return [value.trim()];
  return value.split(',').map((part) => part.trim()).filter((part) => part !== '');
}

/**
 * A hop as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:80`, `2001:db8::1`,
 * or an obfuscated name (`_hidden`, `unknown`), kept as it is.
 */
export function nodeOf(text: string): [string, number] {
  const node = text.trim();
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close !== -1) return [node.slice(1, close), portOf(node.slice(close + 2)) ?? 0];
  }
  const colon = node.indexOf(':');
  // One colon: address and port; more: an IPv6 address without brackets.
  if (colon !== -1 && !node.slice(colon + 1).includes(':')) return [node.slice(0, colon), portOf(node.slice(colon + 1)) ?? 0];
  return [node, 0];
}

function schemeOf(value: string | undefined): 'http' | 'https' | undefined {
  switch (value?.toLowerCase()) {
    case 'http':
    case 'ws':
      return 'http';
    case 'https':
    case 'wss':
      return 'https';
    default:
      return undefined;
  }
}

function hostOf(value: string | undefined): string | undefined {
  return value !== undefined && value !== '' && isHost(value) ? value : undefined;
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** A path prefix: `/api`, never a trailing slash; anything else is ignored. */
function prefixOf(value: string | undefined): string | undefined {
  if (value === undefined || !value.startsWith('/') || /[\s?#]/.test(value)) return undefined;
  return value.replace(/\/+$/, '');
}

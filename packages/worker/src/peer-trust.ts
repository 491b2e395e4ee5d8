// Whom a trust setting names (forwarded_allow_ips, proxy_allow_ips): addresses, CIDR networks,
// or any peer; peers on unix sockets are always trusted. Addresses are compared as numbers,
// a few hundred nanoseconds a check (node's BlockList takes some microseconds, and a request
// from a proxy needs a check per hop). Runs in the worker.
import { parsePeerPattern } from '@bicorn/config';

/** An IPv4 network: the address and mask as unsigned 32-bit numbers. */
interface V4Network {
  readonly base: number;
  readonly mask: number;
}

/** An IPv6 network: the address as eight 16-bit groups, and how many leading bits count. */
interface V6Network {
  readonly groups: readonly number[];
  readonly prefix: number;
}

export class PeerTrust {
  /** `*`: every peer. */
  readonly any: boolean;
  readonly #v4: V4Network[] = [];
  readonly #v6: V6Network[] = [];

  /** `patterns` as the config validated them. */
  constructor(patterns: readonly string[]) {
    let any = false;
    for (const text of patterns) {
      const pattern = parsePeerPattern(text);
      if (typeof pattern === 'string') throw new TypeError(`not a peer pattern: ${pattern}`);
      if (pattern.kind === 'any') {
        any = true;
        continue;
      }
      const prefix = pattern.kind === 'network' ? pattern.prefix : pattern.family === 'ipv4' ? 32 : 128;
      const groups = pattern.family === 'ipv6' ? ipv6Groups(pattern.address) : undefined;
      // ::ffff:a.b.c.d/96 and longer name IPv4 addresses, and match them so.
      const mapped = prefix >= 96 ? mappedIPv4(groups) : undefined;
      const v4 = pattern.family === 'ipv4' ? ipv4Number(pattern.address) : mapped;
      if (v4 !== undefined) this.#v4.push(v4Network(v4, pattern.family === 'ipv4' ? prefix : prefix - 96));
      else if (groups !== undefined) this.#v6.push({ groups, prefix });
    }
    this.any = any;
  }

  /** Whether a peer is trusted; `undefined` is a peer on a unix socket. */
  trusts(address: string | undefined): boolean {
    if (address === undefined || this.any) return true;
    const groups = address.includes(':') ? ipv6Groups(address) : undefined;
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d, and matches as a.b.c.d.
    const v4 = groups === undefined ? ipv4Number(address) : mappedIPv4(groups);
    if (v4 !== undefined) return this.#v4.some((network) => (v4 & network.mask) >>> 0 === network.base);
    return groups !== undefined && this.#v6.some((network) => inPrefix(groups, network));
  }
}

function v4Network(address: number, prefix: number): V4Network {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (address & mask) >>> 0, mask };
}

/** A dotted quad as an unsigned 32-bit number; undefined when it is not one. */
function ipv4Number(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e /* . */) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39 && digits < 3) {
      octet = octet * 10 + code - 0x30;
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

/** Eight 16-bit groups, `::` expanded and a trailing dotted quad read as two; undefined when not IPv6. */
function ipv6Groups(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...tail];
}

function groupsOf(part: string): number[] | undefined {
  if (part === '') return [];
  const groups: number[] = [];
  const pieces = part.split(':');
  for (const [i, piece] of pieces.entries()) {
    if (i === pieces.length - 1 && piece.includes('.')) {
      const v4 = ipv4Number(piece);
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** The IPv4 address of ::ffff:a.b.c.d. */
function mappedIPv4(groups: readonly number[] | undefined): number | undefined {
  if (groups?.[5] !== 0xffff || groups.slice(0, 5).some((group) => group !== 0)) return undefined;
  return (groups[6] ?? 0) * 0x10000 + (groups[7] ?? 0);
}

function inPrefix(groups: readonly number[], network: V6Network): boolean {
  let bits = network.prefix;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((groups[i] ?? 0) & mask) !== ((network.groups[i] ?? 0) & mask)) return false;
  }
  return true;
}

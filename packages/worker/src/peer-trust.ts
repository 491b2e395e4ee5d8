// Whom a trust setting names (forwarded_allow_ips, proxy_allow_ips): addresses, CIDR networks,
// or any peer; peers on unix sockets are always trusted. Runs in the worker.
import { parsePeerPattern } from '@bicorn/config';
import { BlockList, isIPv4 } from 'node:net';

export class PeerTrust {
  /** `*`: every peer. */
  readonly any: boolean;
  readonly #list = new BlockList();

  /** `patterns` as the config validated them. */
  constructor(patterns: readonly string[]) {
    let any = false;
    for (const text of patterns) {
      const pattern = parsePeerPattern(text);
      if (typeof pattern === 'string') throw new TypeError(`not a peer pattern: ${pattern}`);
      if (pattern.kind === 'any') any = true;
      else if (pattern.kind === 'address') this.#list.addAddress(pattern.address, pattern.family);
      else this.#list.addSubnet(pattern.address, pattern.prefix, pattern.family);
    }
    this.any = any;
  }

  /** Whether a peer is trusted; `undefined` is a peer on a unix socket. */
  trusts(address: string | undefined): boolean {
    if (address === undefined || this.any) return true;
    const plain = unmapped(address);
    if (isIPv4(plain)) return this.#list.check(plain, 'ipv4');
    try {
      return this.#list.check(plain, 'ipv6');
    } catch {
      // Not an address at all (an obfuscated or unknown forwarded node).
      return false;
    }
  }
}

/** An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; it matches as a.b.c.d. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

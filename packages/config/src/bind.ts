// Bind addresses: the syntax of `-b`, shared by validation (here) and the master's listeners.
// host:port, [v6]:port, unix:/path, fd://N (an inherited descriptor), and systemd or
// systemd:NAME (sockets passed by systemd socket activation); gunicorn's tcp://host:port and
// unix://path read as gunicorn reads them.
import { isIP } from 'node:net';
import { list, text, type ValueType } from './values.js';

export interface TcpBind {
  readonly host: string;
  readonly port: number;
}

export type BindTarget =
  | ({ readonly kind: 'tcp' } & TcpBind)
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number }
  /** `name` null: every socket systemd passed; else those with this FileDescriptorName=. */
  | { readonly kind: 'systemd'; readonly name: string | null };

const DEFAULT_PORT = 8000;
/** sun_path holds 108 bytes with the final NUL. */
const MAX_UNIX_PATH = 107;

/** Parses any bind address; returns a problem text when it cannot. */
export function parseBind(address: string): BindTarget | string {
  if (address.startsWith('unix:')) {
    // As gunicorn: unix:/abs, unix:///abs, and unix://rel (relative).
    const path = address.replace(/^unix:(\/\/)?/, '');
    if (path === '') return 'unix: needs a path: unix:/run/app.sock';
    if (Buffer.byteLength(path) > MAX_UNIX_PATH) return `a unix socket path is at most ${String(MAX_UNIX_PATH)} bytes; choose a shorter one`;
    return { kind: 'unix', path };
  }
  if (address.startsWith('fd://')) {
    const fd = address.slice('fd://'.length);
    return /^\d{1,9}$/.test(fd) ? { kind: 'fd', fd: Number(fd) } : `fd:// needs a descriptor number: fd://3, got "${fd}"`;
  }
  if (address === 'systemd') return { kind: 'systemd', name: null };
  if (address.startsWith('systemd:')) {
    const name = address.slice('systemd:'.length);
    // systemd allows at most 255 characters, printable, without colons, in a name.
    return /^[\x21-\x39\x3b-\x7e]{1,255}$/.test(name) ? { kind: 'systemd', name } : `systemd:NAME needs the socket's FileDescriptorName=, got "${name}"`;
  }
  const tcp = parseTcpBind(address.startsWith('tcp://') ? address.slice('tcp://'.length) : address);
  return typeof tcp === 'string' ? tcp : { kind: 'tcp', ...tcp };
}

/** Parses `host:port`, `[v6]:port`, `host` or `:port`; returns a problem text when it cannot. */
export function parseTcpBind(address: string): TcpBind | string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  const [host, portText] = bracketed
    ? [bracketed[1] ?? '', bracketed[2]]
    : splitHostPort(address);
  if (bracketed && isIP(host) !== 6) return `"${host}" is not an IPv6 address`;
  if (!bracketed && host.includes(':')) return 'an IPv6 address needs brackets: [::1]:8000';
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!/^\d*$/.test(portText ?? '') || !Number.isInteger(port) || port < 0 || port > 65535) {
    return `port must be 0-65535, got "${portText ?? ''}"`;
  }
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function splitHostPort(address: string): [string, string | undefined] {
  const colon = address.lastIndexOf(':');
  if (colon === -1) return /^\d+$/.test(address) ? ['', address] : [address, undefined];
  const host = address.slice(0, colon);
  // More than one colon and no brackets: a bare IPv6 address, reported by the caller.
  return host.includes(':') ? [address, undefined] : [host, address.slice(colon + 1)];
}

export function formatBind(bind: TcpBind): string {
  return isIP(bind.host) === 6 ? `[${bind.host}]:${String(bind.port)}` : `${bind.host}:${String(bind.port)}`;
}

export const bindAddress: ValueType<string> = text('<address>', (value) => {
  const parsed = parseBind(value.trim());
  return typeof parsed === 'string' ? `host:port, [v6]:port, unix:/path, fd://N or systemd[:NAME] (${parsed})` : undefined;
});

/** A TCP address only: for the master's own endpoints (health_bind). */
export const tcpAddress: ValueType<string> = text('<host:port>', (value) => {
  const parsed = parseTcpBind(value.trim());
  return typeof parsed === 'string' ? `host:port or [v6]:port (${parsed})` : undefined;
});

/** Who a trust setting names: any peer, one address, or a network in CIDR form. */
export type PeerPattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'address'; readonly address: string; readonly family: 'ipv4' | 'ipv6' }
  | { readonly kind: 'network'; readonly address: string; readonly prefix: number; readonly family: 'ipv4' | 'ipv6' };

/** Parses `*`, an IPv4 or IPv6 address, or a CIDR network (10.0.0.0/8, fd00::/8); a problem text when it cannot. */
export function parsePeerPattern(text: string): PeerPattern | string {
  if (text === '*') return { kind: 'any' };
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return `"${address}" is not an IP address`;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) return { kind: 'address', address, family };
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  const bits = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) return `the prefix length of ${text} must be 0-${String(bits)}`;
  return { kind: 'network', address, prefix, family };
}

/** Peers a trust setting names: addresses, CIDR networks, or `*`. */
export const peerList = list(
  text('<ip|cidr|*>', (value) => {
    const parsed = parsePeerPattern(value.trim());
    return typeof parsed === 'string' ? `addresses, CIDR networks (10.0.0.0/8) or * (${parsed})` : undefined;
  }),
  { commasEverywhere: true },
);

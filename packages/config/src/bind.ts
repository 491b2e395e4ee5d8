// Bind addresses: the syntax of `-b`, shared by validation (here) and the master's listeners.
import { isIP } from 'node:net';
import { list, text, type ValueType } from './values.js';

export interface TcpBind {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_PORT = 8000;

/** Parses `host:port`, `[v6]:port`, `host` or `:port`; returns a problem text when it cannot. */
export function parseBind(address: string): TcpBind | string {
  if (address.startsWith('unix:')) return 'unix socket binds are not supported yet (they come with systemd support); use host:port';
  if (address.startsWith('fd://')) return 'fd:// binds are not supported yet (they come with systemd support); use host:port';
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
  return typeof parsed === 'string' ? `host:port or [v6]:port (${parsed})` : undefined;
});

export const hostAddressList = list(text('<ip>'));

// Where statsd_host sends metrics, in gunicorn's forms: `host`, `host:port` (8125 when left
// out), `[v6]:port`, and `unix:PATH` or `unix://PATH` for a unix datagram socket. Pure.
import { isIP } from 'node:net';
import { text, type ValueType } from './values.js';

export type StatsdAddress = { readonly kind: 'udp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

const DEFAULT_PORT = 8125;

/** The address, or a problem text. */
export function parseStatsdAddress(value: string): StatsdAddress | string {
  // gunicorn reads `unix:8125` as the host "unix" (a name from before unix sockets were allowed).
  if (/^unix:\d+$/.test(value)) return udp('unix', value.slice('unix:'.length));
  if (value.startsWith('unix:')) {
    const path = value.replace(/^unix:(\/\/)?/, '');
    return path === '' ? 'unix: needs a socket path' : { kind: 'unix', path };
  }
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(value);
  if (bracketed !== null) {
    const host = bracketed[1] ?? '';
    return isIP(host) === 6 ? udp(host, bracketed[2]) : `"${host}" is not an IPv6 address`;
  }
  if (isIP(value) === 6) return udp(value, undefined);
  const colon = value.lastIndexOf(':');
  if (colon === -1) return udp(value, undefined);
  const host = value.slice(0, colon);
  if (host === '' || host.includes(':')) return `"${value}" has no host (an IPv6 address goes in brackets: [::1]:8125)`;
  return udp(host, value.slice(colon + 1));
}

function udp(host: string, port: string | undefined): StatsdAddress | string {
  if (port === undefined) return { kind: 'udp', host, port: DEFAULT_PORT };
  const number = Number(port);
  return /^\d+$/.test(port) && number > 0 && number < 65536 ? { kind: 'udp', host, port: number } : `"${port}" is not a port`;
}

export const statsdAddress: ValueType<string> = text('<host:port>', (value) => {
  const parsed = parseStatsdAddress(value.trim());
  return typeof parsed === 'string' ? `host, host:port, [v6]:port or unix:PATH (${parsed})` : undefined;
});

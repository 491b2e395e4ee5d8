// HAProxy's PROXY protocol header (v1 text, v2 binary), read from the first bytes of a
// connection: whether they hold one, and the client's address it carries. Pure; runs in the
// worker, once per connection when proxy_protocol is on. The spec:
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
import { isIPv4, isIPv6 } from 'node:net';

export type ProxyProtocolMode = 'v1' | 'v2' | 'auto';

export interface ProxySource {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

export type ProxyHeader =
  /** More bytes are needed to tell. */
  | { readonly kind: 'incomplete' }
  /** The bytes do not start a header of an accepted version. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /**
   * `length` bytes of header; `source` is the client, or undefined when the proxy says to use
   * the connection's own addresses (v1 UNKNOWN, v2 LOCAL, or a family other than TCP over IP).
   */
  | { readonly kind: 'header'; readonly length: number; readonly source: ProxySource | undefined };

const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line, CRLF included. */
const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;

export function parseProxyHeader(bytes: Buffer, mode: ProxyProtocolMode): ProxyHeader {
  if (mode !== 'v1') {
    const v2 = startsWith(bytes, V2_SIGNATURE);
    if (v2 === 'yes') return parseV2(bytes);
    if (v2 === 'maybe') return { kind: 'incomplete' };
  }
  if (mode !== 'v2') {
    const v1 = startsWith(bytes, V1_PREFIX);
    if (v1 === 'yes') return parseV1(bytes);
    if (v1 === 'maybe') return { kind: 'incomplete' };
  }
  return { kind: 'absent' };
}

function startsWith(bytes: Buffer, prefix: Buffer): 'yes' | 'no' | 'maybe' {
  const n = Math.min(bytes.length, prefix.length);
  if (bytes.compare(prefix, 0, n, 0, n) !== 0) return 'no';
  return n === prefix.length ? 'yes' : 'maybe';
}

function parseV1(bytes: Buffer): ProxyHeader {
  const end = bytes.indexOf('\r\n');
  if (end === -1) return bytes.length >= V1_MAX ? invalid('a v1 line without CRLF in its first 107 bytes') : { kind: 'incomplete' };
  if (end + 2 > V1_MAX) return invalid('a v1 line longer than 107 bytes');
  const line = bytes.toString('latin1', 0, end);
  const length = end + 2;
  const [, protocol, source, destination, sourcePort, destinationPort, ...rest] = line.split(' ');
  // UNKNOWN: the proxy could not tell; whatever follows it on the line is ignored.
  if (protocol === 'UNKNOWN') return { kind: 'header', length, source: undefined };
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return invalid(`v1 protocol ${JSON.stringify(protocol ?? '')}`);
  if (rest.length > 0 || destinationPort === undefined) return invalid('a v1 line that is not PROXY TCPx src dst sport dport');
  const family = protocol === 'TCP4' ? 'IPv4' : 'IPv6';
  const valid = family === 'IPv4' ? isCanonicalIPv4 : isIPv6;
  if (source === undefined || destination === undefined || !valid(source) || !valid(destination)) return invalid(`v1 addresses that are not ${family}`);
  const port = v1Port(sourcePort);
  if (port === undefined || v1Port(destinationPort) === undefined) return invalid('v1 ports that are not 0-65535 without leading zeros');
  return { kind: 'header', length, source: { address: source, port, family } };
}

/** Dotted quad, no leading zeros (the spec forbids them: they could read as octal). */
function isCanonicalIPv4(text: string): boolean {
  return isIPv4(text) && text.split('.').every((part) => part === '0' || !part.startsWith('0'));
}

function v1Port(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseV2(bytes: Buffer): ProxyHeader {
  if (bytes.length < V2_FIXED) return { kind: 'incomplete' };
  const versionCommand = bytes[12] ?? 0;
  const familyProtocol = bytes[13] ?? 0;
  const addressLength = bytes.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return invalid(`v2 version ${String(versionCommand >> 4)}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`v2 command ${String(command)}`);
  const family = familyProtocol >> 4;
  const transport = familyProtocol & 0x0f;
  if (family > 3 || transport > 2) return invalid(`v2 family and protocol byte 0x${familyProtocol.toString(16)}`);
  const length = V2_FIXED + addressLength;
  if (bytes.length < length) return { kind: 'incomplete' };
  // LOCAL (the proxy's own health check), and anything but TCP over IPv4 or IPv6: the
  // connection's own addresses stand.
  if (command === 0 || transport !== 1 || (family !== 1 && family !== 2)) return { kind: 'header', length, source: undefined };
  const v4 = family === 1;
  const needed = v4 ? 12 : 36;
  if (addressLength < needed) return invalid(`a v2 ${v4 ? 'IPv4' : 'IPv6'} block of ${String(addressLength)} bytes`);
  const at = V2_FIXED;
  const address = v4 ? [...bytes.subarray(at, at + 4)].join('.') : ipv6Text(bytes.subarray(at, at + 16));
  const port = bytes.readUInt16BE(at + (v4 ? 8 : 32));
  return { kind: 'header', length, source: { address, port, family: v4 ? 'IPv4' : 'IPv6' } };
}

/** RFC 5952 text of 16 address bytes: lower case, no leading zeros, the longest run of zero groups as `::`. */
function ipv6Text(raw: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = Math.max(i, j);
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function invalid(reason: string): ProxyHeader {
  return { kind: 'invalid', reason };
}

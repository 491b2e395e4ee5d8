import { describe, expect, it } from 'vitest';
import { parseProxyHeader } from './proxy-protocol.js';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(command: number, familyProtocol: number, addresses: Buffer): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = 0x20 | command;
  fixed[1] = familyProtocol;
  fixed.writeUInt16BE(addresses.length, 2);
  return Buffer.concat([SIGNATURE, fixed, addresses]);
}

function ipv4Block(): Buffer {
  const block = Buffer.from([192, 0, 2, 1, 10, 0, 0, 1, 0, 0, 0, 0]);
  block.writeUInt16BE(56324, 8);
  block.writeUInt16BE(443, 10);
  return block;
}

describe('PROXY protocol v1', () => {
  it('reads TCP4 and TCP6 lines and leaves the bytes after them', () => {
    const bytes = Buffer.from('PROXY TCP4 192.0.2.1 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n');
    expect(parseProxyHeader(bytes, 'v1')).toEqual({ kind: 'header', length: 41, source: { address: '192.0.2.1', port: 56324, family: 'IPv4' } });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 4711 80\r\n'), 'auto')).toMatchObject({ source: { address: '2001:db8::1', port: 4711, family: 'IPv6' } });
  });

  it('keeps the connection address for UNKNOWN', () => {
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'), 'v1')).toEqual({ kind: 'header', length: 35, source: undefined });
  });

  it('waits for the rest of a header, and refuses one past 107 bytes', () => {
    expect(parseProxyHeader(Buffer.from('PRO'), 'v1')).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.1'), 'v1')).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(120)}`), 'v1').kind).toBe('invalid');
  });

  it('refuses lines that do not match the spec exactly', () => {
    for (const line of [
      'PROXY TCP4 192.168.0.1 192.16...\r\n',
      'PROXY TCP4 192.168.0.1 192.168.0.11 65iii 100000\r\n',
      'PROXY TCP4 not-an-ip 192.168.0.11 56324 443\r\n',
      'PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n',
      'PROXY TCP4 192.168.000.1 192.168.0.11 56324 443\r\n',
      'PROXY TCP4 2001:db8::1 ::1 1 2\r\n',
      'PROXY UDP4 192.168.0.1 192.168.0.11 1 2\r\n',
      'PROXY TCP4 192.168.0.1 192.168.0.11 1 2 3\r\n',
    ]) {
      expect(parseProxyHeader(Buffer.from(line), 'v1').kind, line).toBe('invalid');
    }
  });

  it('says a request without a header has none, in the modes that accept v1', () => {
    expect(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n'), 'v1')).toEqual({ kind: 'absent' });
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.1 10.0.0.1 1 2\r\n'), 'v2')).toEqual({ kind: 'absent' });
  });
});

describe('PROXY protocol v2', () => {
  it('reads TCP over IPv4 and IPv6, skipping TLVs', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x01, 0x00]);
    expect(parseProxyHeader(v2(1, 0x11, Buffer.concat([ipv4Block(), tlv])), 'v2')).toEqual({ kind: 'header', length: 16 + 16, source: { address: '192.0.2.1', port: 56324, family: 'IPv4' } });
    const block = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(block, 0);
    block[31] = 1;
    block.writeUInt16BE(4711, 32);
    expect(parseProxyHeader(v2(1, 0x21, block), 'auto')).toMatchObject({ source: { address: '2001:db8::1', port: 4711, family: 'IPv6' } });
  });

  it('keeps the connection address for LOCAL, UNSPEC, UDP and unix', () => {
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)), 'v2')).toEqual({ kind: 'header', length: 16, source: undefined });
    expect(parseProxyHeader(v2(0, 0x11, ipv4Block()), 'v2')).toMatchObject({ source: undefined });
    expect(parseProxyHeader(v2(1, 0x12, ipv4Block()), 'v2')).toMatchObject({ source: undefined });
    expect(parseProxyHeader(v2(1, 0x31, Buffer.alloc(216)), 'v2')).toMatchObject({ length: 16 + 216, source: undefined });
  });

  it('waits for the whole header and refuses a bad version, command, family or address block', () => {
    expect(parseProxyHeader(SIGNATURE.subarray(0, 5), 'v2')).toEqual({ kind: 'incomplete' });
    expect(parseProxyHeader(v2(1, 0x11, ipv4Block()).subarray(0, 20), 'v2')).toEqual({ kind: 'incomplete' });
    const badVersion = v2(1, 0x11, ipv4Block());
    badVersion[12] = 0x11;
    expect(parseProxyHeader(badVersion, 'v2').kind).toBe('invalid');
    expect(parseProxyHeader(v2(2, 0x11, ipv4Block()), 'v2').kind).toBe('invalid');
    expect(parseProxyHeader(v2(1, 0x41, ipv4Block()), 'v2').kind).toBe('invalid');
    expect(parseProxyHeader(v2(1, 0x11, Buffer.alloc(4)), 'v2').kind).toBe('invalid');
  });

  it('is not taken in v1 mode', () => {
    expect(parseProxyHeader(v2(1, 0x11, ipv4Block()), 'v1')).toEqual({ kind: 'absent' });
  });
});

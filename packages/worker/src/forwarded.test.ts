import { describe, expect, it } from 'vitest';
import { nodeOf, parseForwarded, readForwarding, type ForwardedHeader, type ForwardingPolicy } from './forwarded.js';
import { PeerTrust } from './peer-trust.js';
import type { HeadFields } from './request-rules.js';

const ALL: ForwardedHeader[] = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'forwarded'];

function policy(trusted: string[], headers: ForwardedHeader[] = ['x-forwarded-for', 'x-forwarded-proto']): ForwardingPolicy {
  return { trust: new PeerTrust(trusted), headers: new Set(headers) };
}

function fields(given: Partial<HeadFields>): HeadFields {
  return {
    host: 'backend:8000',
    chunked: false,
    contentLength: undefined,
    xForwardedFor: undefined,
    xForwardedProto: undefined,
    xForwardedHost: undefined,
    xForwardedPort: undefined,
    xForwardedPrefix: undefined,
    forwarded: undefined,
    ...given,
  };
}

const local = ['127.0.0.1', '::1'];

describe('forwarded headers', () => {
  it('takes the client and scheme from a trusted peer', () => {
    expect(readForwarding(fields({ xForwardedFor: '203.0.113.7', xForwardedProto: 'https' }), '127.0.0.1', policy(local))).toEqual({ client: ['203.0.113.7', 0], scheme: 'https' });
  });

  it('leaves everything alone from a peer not trusted, and with no headers taken', () => {
    const given = fields({ xForwardedFor: '203.0.113.7', xForwardedProto: 'https' });
    expect(readForwarding(given, '198.51.100.1', policy(local))).toEqual({});
    expect(readForwarding(given, '127.0.0.1', policy(local, []))).toEqual({});
  });

  it('trusts a peer on a unix socket', () => {
    expect(readForwarding(fields({ xForwardedFor: '203.0.113.7' }), undefined, policy(local))).toEqual({ client: ['203.0.113.7', 0] });
  });

  it('picks the rightmost hop that is not a trusted proxy, so a client cannot choose its address', () => {
    // The client sent "X-Forwarded-For: 1.2.3.4" itself; our proxy at 10.0.0.5 appended the real one.
    const spoofed = fields({ xForwardedFor: '1.2.3.4, 203.0.113.7, 10.0.0.2' });
    expect(readForwarding(spoofed, '10.0.0.5', policy(['10.0.0.0/8'])).client).toEqual(['203.0.113.7', 0]);
    // Every hop trusted: the leftmost is the client.
    expect(readForwarding(fields({ xForwardedFor: '10.0.0.9, 10.0.0.2' }), '10.0.0.5', policy(['10.0.0.0/8'])).client).toEqual(['10.0.0.9', 0]);
  });

  it('takes the leftmost hop when every peer is trusted (*)', () => {
    expect(readForwarding(fields({ xForwardedFor: '1.2.3.4, 203.0.113.7' }), '198.51.100.1', policy(['*'])).client).toEqual(['1.2.3.4', 0]);
  });

  it('reads the scheme at the same hop as the client, or the only one given', () => {
    const chain = fields({ xForwardedFor: '203.0.113.7, 10.0.0.2', xForwardedProto: 'https, http' });
    expect(readForwarding(chain, '10.0.0.5', policy(['10.0.0.0/8'])).scheme).toBe('https');
    expect(readForwarding(fields({ xForwardedFor: '203.0.113.7, 10.0.0.2', xForwardedProto: 'https' }), '10.0.0.5', policy(['10.0.0.0/8'])).scheme).toBe('https');
    expect(readForwarding(fields({ xForwardedProto: 'wss' }), '127.0.0.1', policy(local)).scheme).toBe('https');
    expect(readForwarding(fields({ xForwardedProto: 'gopher' }), '127.0.0.1', policy(local)).scheme).toBeUndefined();
  });

  it('takes host, port and prefix only when forwarder_headers names them', () => {
    const given = fields({ xForwardedHost: 'www.example.com', xForwardedPort: '8443', xForwardedPrefix: '/shop/' });
    expect(readForwarding(given, '127.0.0.1', policy(local))).toEqual({});
    expect(readForwarding(given, '127.0.0.1', policy(local, ALL))).toEqual({ host: 'www.example.com', port: 8443, prefix: '/shop' });
  });

  it('ignores a forwarded host, port or prefix that is malformed', () => {
    const given = fields({ xForwardedHost: 'evil.com/x', xForwardedPort: '99999', xForwardedPrefix: 'shop' });
    expect(readForwarding(given, '127.0.0.1', policy(local, ALL))).toEqual({});
  });

  it('reads RFC 7239 Forwarded, which wins over X-Forwarded', () => {
    const given = fields({ xForwardedFor: '9.9.9.9', forwarded: 'for=1.2.3.4;proto=http, for="[2001:db8:cafe::17]:4711";proto=https;host=www.example.com, for=10.0.0.2' });
    expect(readForwarding(given, '10.0.0.5', policy(['10.0.0.0/8'], ALL))).toEqual({ client: ['2001:db8:cafe::17', 4711], scheme: 'https', host: 'www.example.com' });
    expect(readForwarding(given, '10.0.0.5', policy(['10.0.0.0/8'])).client).toEqual(['9.9.9.9', 0]);
  });

  it('parses Forwarded elements, quoted strings and any case', () => {
    expect(parseForwarded('For="_gazonk";Proto=HTTPS, for=192.0.2.43;by=203.0.113.43').map((e) => Object.fromEntries(e))).toEqual([
      { for: '_gazonk', proto: 'HTTPS' },
      { for: '192.0.2.43', by: '203.0.113.43' },
    ]);
  });

  it('reads hops with and without ports', () => {
    expect(nodeOf('1.2.3.4')).toEqual(['1.2.3.4', 0]);
    expect(nodeOf(' 1.2.3.4:5678 ')).toEqual(['1.2.3.4', 5678]);
    expect(nodeOf('[2001:db8::1]:80')).toEqual(['2001:db8::1', 80]);
    expect(nodeOf('2001:db8::1')).toEqual(['2001:db8::1', 0]);
    expect(nodeOf('unknown')).toEqual(['unknown', 0]);
  });
});

describe('peer trust', () => {
  it('matches addresses, networks, IPv4 clients of dual-stack sockets, unix sockets and *', () => {
    const trust = new PeerTrust(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect([trust.trusts('127.0.0.1'), trust.trusts('::ffff:127.0.0.1'), trust.trusts('10.1.2.3'), trust.trusts('fd12::1'), trust.trusts(undefined)]).toEqual([true, true, true, true, true]);
    expect([trust.trusts('127.0.0.2'), trust.trusts('11.0.0.1'), trust.trusts('fe80::1'), trust.trusts('_hidden')]).toEqual([false, false, false, false]);
    expect(new PeerTrust(['*']).trusts('198.51.100.1')).toBe(true);
    const v6 = new PeerTrust(['2001:db8::/32', '::1', '::ffff:192.0.2.0/120', '0.0.0.0/0']);
    expect([v6.trusts('2001:db8:ffff::1'), v6.trusts('::1'), v6.trusts('0:0:0:0:0:0:0:1'), v6.trusts('192.0.2.77'), v6.trusts('203.0.113.1')]).toEqual([true, true, true, true, true]);
    expect([v6.trusts('2001:db9::1'), v6.trusts('::2'), v6.trusts('fe80::1%eth0')]).toEqual([false, false, false]);
    expect(new PeerTrust(['10.0.0.0/8']).trusts('::ffff:10.1.2.3')).toBe(true);
  });
});

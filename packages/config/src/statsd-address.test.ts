import { describe, expect, it } from 'vitest';
import { parseStatsdAddress } from './statsd-address.js';

describe('statsd_host', () => {
  it("reads gunicorn's forms, with port 8125 when none is given", () => {
    expect(parseStatsdAddress('localhost')).toEqual({ kind: 'udp', host: 'localhost', port: 8125 });
    expect(parseStatsdAddress('10.0.0.5:9125')).toEqual({ kind: 'udp', host: '10.0.0.5', port: 9125 });
    expect(parseStatsdAddress('[::1]:9125')).toEqual({ kind: 'udp', host: '::1', port: 9125 });
    expect(parseStatsdAddress('::1')).toEqual({ kind: 'udp', host: '::1', port: 8125 });
    expect(parseStatsdAddress('unix:/run/statsd.sock')).toEqual({ kind: 'unix', path: '/run/statsd.sock' });
    expect(parseStatsdAddress('unix:///run/statsd.sock')).toEqual({ kind: 'unix', path: '/run/statsd.sock' });
    // gunicorn keeps reading this as the host "unix".
    expect(parseStatsdAddress('unix:8125')).toEqual({ kind: 'udp', host: 'unix', port: 8125 });
  });

  it('says what is wrong with an address it cannot read', () => {
    expect(parseStatsdAddress('localhost:http')).toBe('"http" is not a port');
    expect(parseStatsdAddress('localhost:70000')).toBe('"70000" is not a port');
    expect(parseStatsdAddress('[nope]:1')).toBe('"nope" is not an IPv6 address');
    expect(parseStatsdAddress(':8125')).toMatch(/has no host/);
    expect(parseStatsdAddress('unix:')).toBe('unix: needs a socket path');
  });
});

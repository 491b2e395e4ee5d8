import { describe, expect, it } from 'vitest';
import { parseBind } from './bind.js';
import { resolveConfig } from './load.js';

describe('bind addresses', () => {
  it('reads host:port, [v6]:port and a bare port', () => {
    expect(parseBind('0.0.0.0:80')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 80 });
    expect(parseBind('[::1]:8000')).toEqual({ kind: 'tcp', host: '::1', port: 8000 });
    expect(parseBind(':9000')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 9000 });
  });

  it("reads gunicorn's tcp:// and unix:// forms as gunicorn does", () => {
    expect(parseBind('tcp://127.0.0.1:9000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9000 });
    expect(parseBind('unix:///run/app.sock')).toEqual({ kind: 'unix', path: '/run/app.sock' });
    expect(parseBind('unix://run/app.sock')).toEqual({ kind: 'unix', path: 'run/app.sock' });
  });

  it('reads unix:, fd:// and systemd binds', () => {
    expect(parseBind('unix:/run/app/bicorn.sock')).toEqual({ kind: 'unix', path: '/run/app/bicorn.sock' });
    expect(parseBind('unix:rel.sock')).toEqual({ kind: 'unix', path: 'rel.sock' });
    expect(parseBind('fd://3')).toEqual({ kind: 'fd', fd: 3 });
    expect(parseBind('systemd')).toEqual({ kind: 'systemd', name: null });
    expect(parseBind('systemd:web')).toEqual({ kind: 'systemd', name: 'web' });
  });

  it('says what is wrong with a bad one', () => {
    expect(parseBind('unix:')).toMatch(/needs a path/);
    expect(parseBind(`unix:/${'x'.repeat(120)}`)).toMatch(/at most 107 bytes/);
    expect(parseBind('fd://three')).toMatch(/descriptor number/);
    expect(parseBind('systemd:a:b')).toMatch(/FileDescriptorName/);
    expect(parseBind('::1:80')).toMatch(/brackets/);
  });

  it('keeps the health endpoint on TCP', () => {
    expect(() => resolveConfig({ health_bind: { value: 'unix:/tmp/h.sock', flag: '--health-bind' } }, {}, undefined)).toThrow(/health_bind \(from --health-bind\): expected host:port or \[v6\]:port/);
  });

  it('checks user, group and socket owner names', () => {
    const { config } = resolveConfig({ user: { value: 'www-data', flag: '--user' }, group: { value: '33', flag: '--group' }, socket_owner: { value: ':www-data', flag: '--socket-owner' }, umask: { value: '027', flag: '--umask' } }, {}, undefined);
    expect(config).toMatchObject({ user: 'www-data', group: '33', socket_owner: ':www-data', umask: 0o27 });
    expect(() => resolveConfig({ user: { value: 'a b', flag: '--user' } }, {}, undefined)).toThrow(/user \(from --user\): expected a user or group name, or a numeric id/);

    const owner = (value: string) => resolveConfig({ socket_owner: { value, flag: '--socket-owner' } }, {}, undefined).config.socket_owner;
    expect(['web', 'web:www-data', '33:33', ':www-data'].map(owner)).toEqual(['web', 'web:www-data', '33:33', ':www-data']);
    for (const bad of [':', 'web:', 'a b', 'web:www:data', 'web:-x']) expect(() => owner(bad)).toThrow(/socket_owner \(from --socket-owner\): expected user, user:group or :group/);
  });
});

describe('the settings of the front', () => {
  const resolve = (cli: Record<string, unknown>, env: Record<string, string> = {}) =>
    resolveConfig(Object.fromEntries(Object.entries(cli).map(([key, value]) => [key, { value, flag: `--${key}` }])), env, undefined).config;

  it('takes addresses, CIDR networks and *, comma-separated in one flag as gunicorn does, and FORWARDED_ALLOW_IPS', () => {
    expect(resolve({ forwarded_allow_ips: ['10.0.0.0/8,fd00::/8', '192.0.2.1'] }).forwarded_allow_ips).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    expect(resolve({}, { FORWARDED_ALLOW_IPS: '*' }).forwarded_allow_ips).toEqual(['*']);
    expect(resolve({}).proxy_allow_ips).toEqual(['127.0.0.1', '::1']);
    expect(() => resolve({ proxy_allow_ips: ['10.0.0.0/33'] })).toThrow(/proxy_allow_ips \(from --proxy_allow_ips\): expected addresses, CIDR networks \(10\.0\.0\.0\/8\) or \* \(the prefix length of 10\.0\.0\.0\/33 must be 0-32\)/);
    expect(() => resolve({ forwarded_allow_ips: ['example.com'] })).toThrow(/"example\.com" is not an IP address/);
  });

  it('takes the PROXY protocol mode, a bare flag or true meaning auto', () => {
    expect([true, false, 'v1', 'v2', 'auto', 'off', 'true'].map((value) => resolve({ proxy_protocol: value }).proxy_protocol)).toEqual(['auto', 'off', 'v1', 'v2', 'auto', 'off', 'auto']);
    expect(() => resolve({ proxy_protocol: 'v3' })).toThrow(/proxy_protocol \(from --proxy_protocol\): expected one of "off", "v1", "v2", "auto", true \(auto\) or false \(off\)/);
  });

  it('takes forwarded header names in any case', () => {
    expect(resolve({ forwarder_headers: ['X-Forwarded-Host,Forwarded'] }).forwarder_headers).toEqual(['x-forwarded-host', 'forwarded']);
    expect(() => resolve({ forwarder_headers: ['X-Real-IP'] })).toThrow(/forwarder_headers/);
  });

  it('takes response headers as Name:Value', () => {
    expect(resolve({ headers: ['X-Frame-Options:DENY', 'X-A: b, c'] }).headers).toEqual(['X-Frame-Options:DENY', 'X-A: b, c']);
    expect(() => resolve({ headers: ['no colon'] })).toThrow(/headers \(from --headers\): expected Name:Value/);
  });
});

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

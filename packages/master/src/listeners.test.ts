import { describe, expect, it } from 'vitest';
import { planListeners } from './listeners.js';

const activated = [
  { fd: 3, name: 'web' },
  { fd: 4, name: 'admin' },
];

describe('which sockets the master listens on', () => {
  it('binds every address it is given', () => {
    expect(planListeners(['127.0.0.1:0', 'unix:/run/a.sock', 'fd://5'], []).planned.map((p) => p.target)).toEqual([
      { kind: 'tcp', host: '127.0.0.1', port: 0 },
      { kind: 'unix', path: '/run/a.sock' },
      { kind: 'fd', fd: 5 },
    ]);
  });

  it('serves the activated sockets instead of the addresses under socket activation', () => {
    const { planned, replaced } = planListeners(['127.0.0.1:8000'], activated);
    expect(replaced).toBe(true);
    expect(planned.map((p) => p.target)).toEqual([{ kind: 'fd', fd: 3 }, { kind: 'fd', fd: 4 }]);
  });

  it('picks activated sockets by name beside other addresses', () => {
    const { planned, replaced } = planListeners(['systemd:admin', '127.0.0.1:0'], activated);
    expect(replaced).toBe(false);
    expect(planned.map((p) => p.target)).toEqual([{ kind: 'fd', fd: 4 }, { kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  });

  it('refuses a systemd bind when systemd passed no such socket', () => {
    expect(() => planListeners(['systemd'], [])).toThrow(/systemd passed no sockets \(LISTEN_FDS is unset\)/);
    expect(() => planListeners(['systemd:api'], activated)).toThrow(/no socket named api; it passed web, admin/);
  });
});

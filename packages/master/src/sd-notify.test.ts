import { describe, expect, it } from 'vitest';
import { takeNotifyEnv } from './sd-notify.js';
import { notifyMessage } from './service-notifier.js';

describe('the notify socket', () => {
  it('pings the watchdog at half its period, only when it watches this process', () => {
    expect(takeNotifyEnv({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '10000000' }, 5)).toEqual({ socket: '/n', watchdogMs: 5000 });
    expect(takeNotifyEnv({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '5' }, 5).watchdogMs).toBe(5000);
    expect(takeNotifyEnv({ NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '4' }, 5).watchdogMs).toBeUndefined();
    expect(takeNotifyEnv({ WATCHDOG_USEC: '10000000' }, 5)).toEqual({ socket: undefined, watchdogMs: undefined });
  });

  it('clears the variables so that workers and apps never see them', () => {
    const env: Record<string, string | undefined> = { NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '1', WATCHDOG_PID: '5', HOME: '/root' };
    takeNotifyEnv(env, 5);
    expect(env).toEqual({ HOME: '/root' });
  });
});

describe('what systemd is told', () => {
  it('says READY with the main pid and a status once the first generation serves', () => {
    expect(notifyMessage({ type: 'ready', workers: 2 }, 42, 0n)).toBe('READY=1\nMAINPID=42\nSTATUS=serving with 2 workers, generation 1');
  });

  it('says RELOADING with the monotonic clock, then READY whether or not the reload worked', () => {
    expect(notifyMessage({ type: 'reloading' }, 42, 123n)).toBe('RELOADING=1\nMONOTONIC_USEC=123\nSTATUS=reloading');
    expect(notifyMessage({ type: 'reloaded', ok: true, generation: 2, workers: 1 }, 42, 0n)).toBe('READY=1\nSTATUS=serving with 1 worker, generation 2');
    expect(notifyMessage({ type: 'reloaded', ok: false, generation: 1, workers: 1 }, 42, 0n)).toMatch(/^READY=1\nSTATUS=reload failed/);
  });

  it('says STOPPING on stop', () => {
    expect(notifyMessage({ type: 'stopping' }, 42, 0n)).toBe('STOPPING=1\nSTATUS=stopping');
  });
});

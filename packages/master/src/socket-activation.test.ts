import { describe, expect, it } from 'vitest';
import { activatedSockets, takeActivatedSockets } from './socket-activation.js';

describe('socket activation', () => {
  it('names the descriptors from 3 on, with FileDescriptorName= names', () => {
    expect(activatedSockets({ LISTEN_FDS: '2', LISTEN_PID: '42', LISTEN_FDNAMES: 'web:admin' }, 42)).toEqual([
      { fd: 3, name: 'web' },
      { fd: 4, name: 'admin' },
    ]);
    expect(activatedSockets({ LISTEN_FDS: '1', LISTEN_PID: '42' }, 42)).toEqual([{ fd: 3, name: 'unknown' }]);
  });

  it('ignores sockets meant for another process, and malformed counts', () => {
    expect(activatedSockets({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42)).toEqual([]);
    expect(activatedSockets({ LISTEN_FDS: '1' }, 42)).toEqual([]);
    expect(activatedSockets({ LISTEN_FDS: 'x', LISTEN_PID: '42' }, 42)).toEqual([]);
  });

  it('clears the variables so that workers never see them', () => {
    const env: Record<string, string | undefined> = { LISTEN_FDS: '1', LISTEN_PID: '7', LISTEN_FDNAMES: 'web', PATH: '/bin' };
    expect(takeActivatedSockets(env, 7)).toEqual([{ fd: 3, name: 'web' }]);
    expect(env).toEqual({ PATH: '/bin' });
  });
});

// The master's file descriptors against its limit. An accept that fails with EMFILE is never
// reported: libuv answers it by accepting and closing the waiting connections (its "emfile
// trick") and tells no one, so the master looks every few seconds and logs when it is out of
// descriptors (its clients' connections are being closed at once) and when it is clear again.
// Linux only (/proc/self); runs in the master.
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '@bicorn/runtime';

const CHECK_MS = 2_000;

export interface DescriptorWatch {
  close(): void;
}

/** Descriptors still free, or 0 when none is (even for reading /proc); undefined off Linux. */
export function freeDescriptors(): number | undefined {
  let limit: number;
  try {
    const soft = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    limit = Number(soft);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EMFILE' ? 0 : undefined;
  }
  if (!Number.isFinite(limit)) return undefined;
  try {
    // readdir's own descriptor is in the list.
    return limit - (readdirSync('/proc/self/fd').length - 1);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EMFILE' ? 0 : undefined;
  }
}

export function watchDescriptors(log: Logger, free: () => number | undefined = freeDescriptors): DescriptorWatch {
  let out = false;
  const timer = setInterval(() => {
    const left = free();
    if (left === undefined) {
      clearInterval(timer);
      return;
    }
    // A few to spare: an accept, the socket's hand-over to a worker.
    const nowOut = left < 4;
    if (nowOut && !out) log.error({ free: left, hint: 'raise the limit: ulimit -n, or LimitNOFILE= under systemd' }, 'the master is out of file descriptors: new connections are closed as soon as they are accepted');
    if (!nowOut && out) log.info({ free: left }, 'the master has file descriptors again');
    out = nowOut;
  }, CHECK_MS);
  timer.unref();
  return {
    close: () => {
      clearInterval(timer);
    },
  };
}

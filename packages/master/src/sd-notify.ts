// The sd_notify(3) datagram, sent from the master's own process. Node has no AF_UNIX datagram
// socket, so socket(2) and sendto(2) are called through koffi, an FFI whose prebuilt binaries
// come in its npm package (nothing to compile); it is loaded only when NOTIFY_SOCKET is set.
// Sending from the master itself (not a helper process) makes systemd see the main PID as the
// sender, so the default NotifyAccess=main works and no message can race a helper's exit.
// Runs in the master.
import type { Logger } from '@bicorn/runtime';

export interface NotifyEnv {
  /** NOTIFY_SOCKET: a path, or `@name` for an abstract socket. */
  readonly socket: string | undefined;
  /** Half of WATCHDOG_USEC, when the watchdog is on for this process. */
  readonly watchdogMs: number | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * Reads the notify variables and removes them, so that workers and the app's processes do not
 * try to speak for the service (systemd would refuse them under NotifyAccess=main anyway).
 */
export function takeNotifyEnv(env: Env = process.env, pid = process.pid): NotifyEnv {
  const socket = env.NOTIFY_SOCKET === undefined || env.NOTIFY_SOCKET === '' ? undefined : env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC ?? '');
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  // systemd checks at the period it was given; pinging at half of it leaves a whole half for a late tick.
  const watchdogMs = socket !== undefined && forUs && Number.isFinite(usec) && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : undefined;
  return { socket, watchdogMs };
}

/** struct sockaddr_un for `socket`; a leading @ names an abstract socket (no trailing NUL). */
export function notifyAddress(socket: string): Buffer {
  const abstract = socket.startsWith('@');
  const path = Buffer.from(abstract ? socket.slice(1) : socket);
  const address = Buffer.alloc(2 + (abstract ? 1 : 0) + path.length + (abstract ? 0 : 1));
  address.writeUInt16LE(AF_UNIX, 0);
  path.copy(address, abstract ? 3 : 2);
  return address;
}

export interface NotifySocket {
  /** Sends one message (`KEY=VALUE` lines); never throws, never blocks. */
  send(message: string): void;
  close(): void;
}

// Linux's values; systemd exists only there.
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;

/** Opens the datagram socket; undefined (with the reason logged) when it cannot. */
export async function openNotifySocket(socket: string, log: Logger): Promise<NotifySocket | undefined> {
  if (process.platform !== 'linux' || !(socket.startsWith('/') || socket.startsWith('@'))) {
    log.error({ notifySocket: socket }, 'NOTIFY_SOCKET is not a unix socket bicorn can reach; systemd will not hear that bicorn is ready');
    return undefined;
  }
  let koffi: (typeof import('koffi'))['default'];
  try {
    koffi = (await import('koffi')).default;
  } catch (error) {
    log.error({ err: error }, 'cannot load koffi to talk to systemd (reinstall bicorn for this platform); systemd will not hear that bicorn is ready');
    return undefined;
  }
  // dlopen(NULL): libc's symbols, whichever libc (glibc, musl) node runs on.
  const libc = koffi.load(null);
  const socketCall = libc.func('int socket(int domain, int type, int protocol)');
  const sendto = libc.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
  const close = libc.func('int close(int fd)');
  const fd = socketCall(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) {
    log.error({ errno: koffi.errno() }, 'cannot open a socket to talk to systemd');
    return undefined;
  }
  const address = notifyAddress(socket);
  let open = true;
  return {
    send: (message) => {
      if (!open) return;
      const bytes = Buffer.from(message);
      // Unconnected, with the address each time: systemd re-executing itself makes a new socket.
      if ((sendto(fd, bytes, bytes.length, MSG_NOSIGNAL, address, address.length) as number) < 0) {
        log.warn({ errno: koffi.errno(), message: message.split('\n')[0] }, 'sd_notify message not delivered');
      }
    },
    close: () => {
      if (open) close(fd);
      open = false;
    },
  };
}

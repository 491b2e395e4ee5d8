// Datagrams to a unix socket, which node's dgram cannot send (it has no AF_UNIX): socket(2) and
// sendto(2) through koffi, an FFI whose prebuilt binaries come in its npm package (nothing to
// compile), loaded only when a unix datagram is needed (sd_notify, statsd on unix:). Sending
// from the calling process itself is what sd_notify needs: systemd sees its pid as the sender.
// Runs in the master and the workers, on Linux.

export interface UnixDatagramSocket {
  /** Sends one datagram; false when the kernel refused it (with errno). Never blocks. */
  send(bytes: Buffer): { ok: true } | { ok: false; errno: number };
  close(): void;
}

// Linux's values.
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;

/** struct sockaddr_un for `path`; a leading @ names an abstract socket (no trailing NUL). */
export function unixAddress(path: string): Buffer {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path);
  const address = Buffer.alloc(2 + (abstract ? 1 : 0) + name.length + (abstract ? 0 : 1));
  address.writeUInt16LE(AF_UNIX, 0);
  name.copy(address, abstract ? 3 : 2);
  return address;
}

/**
 * An unconnected datagram socket that sends to `path` (an address each time: a peer that makes
 * its socket anew, as systemd re-executing itself does, is still reached). Throws with the reason
 * when koffi cannot load or the socket cannot be made.
 */
export async function openUnixDatagram(path: string): Promise<UnixDatagramSocket> {
  if (process.platform !== 'linux') throw new Error('unix datagram sockets are sent through Linux system calls');
  const koffi = (await import('koffi')).default;
  // dlopen(NULL): libc's symbols, whichever libc (glibc, musl) node runs on.
  const libc = koffi.load(null);
  const socketCall = libc.func('int socket(int domain, int type, int protocol)');
  const sendto = libc.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
  const close = libc.func('int close(int fd)');
  const fd = socketCall(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw new Error(`socket(AF_UNIX, SOCK_DGRAM) failed with errno ${String(koffi.errno())}`);
  const address = unixAddress(path);
  let open = true;
  return {
    send: (bytes) => {
      if (!open) return { ok: false, errno: 9 };
      return (sendto(fd, bytes, bytes.length, MSG_NOSIGNAL, address, address.length) as number) < 0 ? { ok: false, errno: koffi.errno() } : { ok: true };
    },
    close: () => {
      if (open) close(fd);
      open = false;
    },
  };
}

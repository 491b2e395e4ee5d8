// Sends file descriptors to another process over a unix stream socket, which node does only
// between node processes (over its IPC channel): sendmsg(2) with SCM_RIGHTS through koffi, as
// unix-datagram.ts sends datagrams. Runs in the worker, on Linux.

export interface DescriptorSender {
  /** Sends `fd` with `payload` (a few bytes that name it); false when the kernel refused. Never blocks. */
  send(fd: number, payload: Buffer): boolean;
}

// Linux's values.
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

/** A sender over the connected unix stream socket `channelFd`; throws when koffi cannot load. */
export async function openDescriptorSender(channelFd: number): Promise<DescriptorSender> {
  if (process.platform !== 'linux') throw new Error('descriptors are sent through Linux system calls');
  const koffi = (await import('koffi')).default;
  const libc = koffi.load(null);
  const iovec = koffi.struct({ iov_base: 'void *', iov_len: 'size_t' });
  const msghdr = koffi.struct({ msg_name: 'void *', msg_namelen: 'uint32_t', msg_iov: koffi.pointer(iovec), msg_iovlen: 'size_t', msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int' });
  const sendmsg = libc.func('sendmsg', 'intptr_t', ['int', koffi.pointer(msghdr), 'int']);
  // One control message of one descriptor: CMSG_LEN(4) = 20 bytes, padded to CMSG_SPACE(4) = 24.
  const control = Buffer.alloc(24);
  control.writeBigUInt64LE(20n, 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  return {
    send(fd, payload) {
      control.writeInt32LE(fd, 16);
      const message = { msg_name: null, msg_namelen: 0, msg_iov: [{ iov_base: payload, iov_len: payload.length }], msg_iovlen: 1, msg_control: control, msg_controllen: control.length, msg_flags: 0 };
      return (sendmsg(channelFd, message, MSG_DONTWAIT | MSG_NOSIGNAL) as number) === payload.length;
    },
  };
}

// Lends a socket to another process: its descriptor over a socket pair, as one SCM_RIGHTS message
// with a payload, sent through koffi (node has no sendmsg). For the floor's bare servers
// (direct.mjs, ws_direct.mjs); bicorn's own is @bicorn/runtime's descriptor sender.
import { createRequire } from 'node:module';

/** Sends a socket's descriptor, with `payload`, over the socket pair `channel` (sendmsg through koffi). */
export function socketLender(channel) {
  const koffi = createRequire(new URL('../../../packages/runtime/package.json', import.meta.url))('koffi');
  const libc = koffi.load(null);
  const iovec = koffi.struct('iovec', { iov_base: 'void *', iov_len: 'size_t' });
  const msghdr = koffi.struct('msghdr', { msg_name: 'void *', msg_namelen: 'uint32_t', msg_iov: koffi.pointer(iovec), msg_iovlen: 'size_t', msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int' });
  const sendmsg = libc.func('intptr_t sendmsg(int fd, const msghdr *msg, int flags)');
  const channelFd = channel._handle.fd;
  // One SCM_RIGHTS message of one descriptor: CMSG_LEN(4) = 20, padded to CMSG_SPACE(4) = 24.
  const control = Buffer.alloc(24);
  control.writeBigUInt64LE(20n, 0);
  control.writeInt32LE(1, 8); // SOL_SOCKET
  control.writeInt32LE(1, 12); // SCM_RIGHTS
  return (socket, payload) => {
    control.writeInt32LE(socket._handle.fd, 16);
    const message = { msg_name: null, msg_namelen: 0, msg_iov: [{ iov_base: payload, iov_len: payload.length }], msg_iovlen: 1, msg_control: control, msg_controllen: control.length, msg_flags: 0 };
    // MSG_NOSIGNAL. A few bytes on a socket pair the Python process keeps reading find room.
    if (sendmsg(channelFd, message, 0x4000) !== payload.length) throw new Error(`sendmsg failed with errno ${String(koffi.errno())}`);
  };
}

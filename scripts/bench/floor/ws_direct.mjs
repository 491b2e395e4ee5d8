// The floor of a WebSocket echo when the Python process frames the connection itself: a
// node:http server answers each upgrade request with its 101, stops reading the socket and lends
// it to a Python process (its descriptor over a socket pair, SCM_RIGHTS, as direct.mjs), whose
// uvloop event loop (ws_direct_runner.py) then reads the client's frames, unmasks them and
// echoes each message itself. Node is off the path of every message. Run it under the bench's
// WebSocket echo (ws-echo.mjs) beside bicorn and uvicorn and read each process's CPU from /proc
// (scripts/bench/README.md, "The floor of two processes").
//   node scripts/bench/floor/ws_direct.mjs PORT   (python3 on PATH must have uvloop)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [port = '8000'] = process.argv.slice(2);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const runner = spawn('python3', [fileURLToPath(new URL('ws_direct_runner.py', import.meta.url))], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
const lend = socketLender(runner.stdio[3]);
const NO_PAYLOAD = Buffer.alloc(1);

const http = createServer((_req, res) => {
  res.writeHead(404).end();
});
http.on('upgrade', (req, socket, head) => {
  // The client sends nothing before the 101, so the handshake's bytes were all node read.
  socket._handle.readStop();
  if (head.length > 0) throw new Error('bytes after the handshake');
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`, () => {
    lend(socket, NO_PAYLOAD);
    // The Python process holds the connection now: node's descriptor closes without ending it.
    socket.destroy();
  });
});
http.listen(Number(port), '127.0.0.1');

/** Sends a socket's descriptor, with `payload`, over the socket pair `channel` (sendmsg through koffi). */
function socketLender(channel) {
  const koffi = createRequire(new URL('../../../packages/runtime/package.json', import.meta.url))('koffi');
  const libc = koffi.load(null);
  const iovec = koffi.struct('iovec', { iov_base: 'void *', iov_len: 'size_t' });
  const msghdr = koffi.struct('msghdr', { msg_name: 'void *', msg_namelen: 'uint32_t', msg_iov: koffi.pointer(iovec), msg_iovlen: 'size_t', msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int' });
  const sendmsg = libc.func('intptr_t sendmsg(int fd, const msghdr *msg, int flags)');
  const channelFd = channel._handle.fd;
  const control = Buffer.alloc(24);
  control.writeBigUInt64LE(20n, 0);
  control.writeInt32LE(1, 8); // SOL_SOCKET
  control.writeInt32LE(1, 12); // SCM_RIGHTS
  return (socket, payload) => {
    control.writeInt32LE(socket._handle.fd, 16);
    const message = { msg_name: null, msg_namelen: 0, msg_iov: [{ iov_base: payload, iov_len: payload.length }], msg_iovlen: 1, msg_control: control, msg_controllen: control.length, msg_flags: 0 };
    if (sendmsg(channelFd, message, 0x4000) !== payload.length) throw new Error(`sendmsg failed with errno ${String(koffi.errno())}`);
  };
}

process.on('SIGTERM', () => {
  runner.kill();
  process.exit(0);
});

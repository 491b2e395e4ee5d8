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
import { fileURLToPath } from 'node:url';
import { socketLender } from './socket-lender.mjs';

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

process.on('SIGTERM', () => {
  runner.kill();
  process.exit(0);
});

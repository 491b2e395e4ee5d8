// The floor of a WebSocket echo through bicorn's design: a ws server (the library bicorn's worker
// uses) that relays each client message to a second process over a socket pair, as a record of
// the connection's id, the message's length and its bytes, and sends back what comes back; the
// Python process (ws_relay_runner.py, uvloop) echoes each record at once. What one tick sends
// leaves in one write each way, as in bicorn's worker and runner. Nothing else is on the path
// (no frames of bicorn's, credit, limits, pings or ASGI). Run it under the bench's WebSocket
// echo (ws-echo.mjs) beside bicorn and uvicorn and read each process's CPU from /proc
// (scripts/bench/README.md, "The floor of two processes").
//   node scripts/bench/floor/ws_relay.mjs PORT   (python3 on PATH must have uvloop)
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const [port = '8000'] = process.argv.slice(2);
const { WebSocketServer } = createRequire(new URL('../../../packages/gateway/package.json', import.meta.url))('ws');

const runner = spawn('python3', [fileURLToPath(new URL('ws_relay_runner.py', import.meta.url))], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
const link = runner.stdio[3];
const sockets = new Map();
let next = 0;
let corked = false;

// Records back: u32 id, u32 length, the message.
let rest = Buffer.alloc(0);
link.on('data', (chunk) => {
  const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
  let at = 0;
  while (at + 8 <= data.length) {
    const length = data.readUInt32LE(at + 4);
    if (at + 8 + length > data.length) break;
    sockets.get(data.readUInt32LE(at))?.send(data.subarray(at + 8, at + 8 + length), { binary: false });
    at += 8 + length;
  }
  rest = data.subarray(at);
});

const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
const http = createServer((_req, res) => {
  res.writeHead(404).end();
});
http.on('upgrade', (req, socket, head) => {
  server.handleUpgrade(req, socket, head, (ws) => {
    next = (next + 1) >>> 0;
    const id = next;
    sockets.set(id, ws);
    ws.on('message', (data) => {
      const record = Buffer.allocUnsafe(8);
      record.writeUInt32LE(id, 0);
      record.writeUInt32LE(data.length, 4);
      if (!corked) {
        corked = true;
        link.cork();
        process.nextTick(() => {
          corked = false;
          link.uncork();
        });
      }
      link.write(record);
      link.write(data);
    });
    ws.on('close', () => sockets.delete(id));
  });
});
http.listen(Number(port), '127.0.0.1');

process.on('SIGTERM', () => {
  runner.kill();
  process.exit(0);
});

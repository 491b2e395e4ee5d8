// relay.mjs without node:http: the same relay of each request to a second process, behind a
// front that reads HTTP/1.1 requests off the socket itself (a request line and headers, no body:
// enough for wrk's GETs, nothing more) and writes each response as one buffer with the headers
// node:http would send. Beside relay.mjs, what node:http itself costs a relayed request.
//   node raw_relay.mjs PORT [asgi]   (python3 on PATH must have uvloop)
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const [port = '8000', mode = 'echo'] = process.argv.slice(2);
const runner = spawn('python3', [fileURLToPath(new URL('runner.py', import.meta.url)), mode], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
const frames = runner.stdio[3];
const waiting = new Map();
const HEAD_END = Buffer.from('\r\n\r\n');
let next = 0;
let corked = false;

// node:http's headers for the same answer, its Date refreshed once a second as node does.
let head = Buffer.alloc(0);
function refreshHead() {
  head = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\nDate: ${new Date().toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`, 'latin1');
}
refreshHead();
setInterval(refreshHead, 1000).unref();

let rest = Buffer.alloc(0);
frames.on('data', (chunk) => {
  const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
  let at = 0;
  for (; at + 17 <= data.length; at += 17) {
    const id = data.readUInt32LE(at);
    const socket = waiting.get(id);
    waiting.delete(id);
    if (socket.destroyed) continue;
    const answer = Buffer.allocUnsafe(head.length + 13);
    head.copy(answer);
    data.copy(answer, head.length, at + 4, at + 17);
    socket.write(answer);
  }
  rest = data.subarray(at);
});

function relay(socket) {
  next = (next + 1) >>> 0;
  waiting.set(next, socket);
  const record = Buffer.allocUnsafe(4);
  record.writeUInt32LE(next);
  if (!corked) {
    corked = true;
    frames.cork();
    process.nextTick(() => {
      corked = false;
      frames.uncork();
    });
  }
  frames.write(record);
}

createServer({ noDelay: true }, (socket) => {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    let data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (let end = data.indexOf(HEAD_END); end !== -1; end = data.indexOf(HEAD_END)) {
      relay(socket);
      data = data.subarray(end + 4);
    }
    pending = data;
  });
  socket.on('error', () => undefined);
}).listen(Number(port), '127.0.0.1');

process.on('SIGTERM', () => {
  runner.kill();
  process.exit(0);
});

// The floor of bicorn's design for a Python app: a node:http server that relays each request to
// a second process over a socket pair and writes what comes back, with nothing else on the path
// (no limits, logs, timeouts, checks or full frames). What it costs per request, beside
// bicorn and uvicorn, bounds what two processes can reach (scripts/bench/README.md, "Floor").
//   node relay.mjs PORT [asgi]   (python3 on PATH must have uvloop)
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const [port = '8000', mode = 'echo'] = process.argv.slice(2);
const runner = spawn('python3', [fileURLToPath(new URL('runner.py', import.meta.url)), mode], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
const frames = runner.stdio[3];
const waiting = new Map();
const HEADERS = { 'content-type': 'text/plain', 'content-length': '13' };
let next = 0;
let corked = false;

// Each record is 4 bytes of request id one way, and id plus a 13-byte body the other.
let rest = Buffer.alloc(0);
frames.on('data', (chunk) => {
  const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
  let at = 0;
  for (; at + 17 <= data.length; at += 17) {
    const id = data.readUInt32LE(at);
    const res = waiting.get(id);
    waiting.delete(id);
    res.writeHead(200, HEADERS);
    res.end(data.subarray(at + 4, at + 17));
  }
  rest = data.subarray(at);
});

createServer((req, res) => {
  next = (next + 1) >>> 0;
  waiting.set(next, res);
  const record = Buffer.allocUnsafe(4);
  record.writeUInt32LE(next);
  // As bicorn's worker: what one tick sends leaves in one write.
  if (!corked) {
    corked = true;
    frames.cork();
    process.nextTick(() => {
      corked = false;
      frames.uncork();
    });
  }
  frames.write(record);
  req.resume();
}).listen(Number(port), '127.0.0.1');

process.on('SIGTERM', () => {
  runner.kill();
  process.exit(0);
});

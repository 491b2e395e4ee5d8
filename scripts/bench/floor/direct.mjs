// The floor of a 10 MiB download through two processes when the second one writes the body: a
// node:http server writes each response's head, then lends the client's socket to a Python
// process (its descriptor over a socket pair, SCM_RIGHTS, sent through koffi), which writes the
// body to it itself and says when it is done; nothing else is on the path (no limits, logs,
// timeouts or checks). bicorn's worker instead relays the body it gets from the Python process
// over a socket pair, copying every byte twice more. Run it under the bench's 10 MiB downloads
// beside bicorn and uvicorn and read each process's CPU from /proc (scripts/bench/README.md,
// "The floor of two processes").
//   pnpm install && node scripts/bench/floor/direct.mjs PORT
// python3 on PATH must have uvloop (.venv/bin first on PATH, once `pnpm bench:setup` made it).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { socketLender } from './socket-lender.mjs';

const [port = '8000'] = process.argv.slice(2);
const HEADERS = { 'content-type': 'application/octet-stream', 'content-length': String(10 * 1024 * 1024) };

const runner = spawn('python3', [fileURLToPath(new URL('direct_runner.py', import.meta.url))], { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'] });
const done = runner.stdio[3];
const lend = socketLender(runner.stdio[4]);
const open = new Map();
let next = 0;

// The Python process answers each socket it was lent with its id (u32) once the body is written.
let rest = Buffer.alloc(0);
done.on('data', (chunk) => {
  const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
  let at = 0;
  for (; at + 4 <= data.length; at += 4) {
    const id = data.readUInt32LE(at);
    open.get(id).end();
    open.delete(id);
  }
  rest = data.subarray(at);
});

createServer((req, res) => {
  next = (next + 1) >>> 0;
  open.set(next, res);
  req.resume();
  res.writeHead(200, HEADERS);
  // The head leaves first, whole: the body the Python process writes comes after it.
  res.flushHeaders();
  const id = Buffer.allocUnsafe(4);
  id.writeUInt32LE(next);
  // A request that came before the one ahead of it on its connection had finished waits for its socket.
  if (res.socket === null) res.once('socket', () => handOver(res, id));
  else handOver(res, id);
}).listen(Number(port), '127.0.0.1');

function handOver(res, id) {
  const socket = res.socket;
  if (socket.writableLength === 0) lend(socket, id);
  else socket.once('drain', () => lend(socket, id));
}

process.on('SIGTERM', () => {
  runner.kill();
  process.exit(0);
});

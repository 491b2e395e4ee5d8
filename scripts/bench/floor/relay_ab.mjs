// The worker's side of a Python request, in one process and without the kernel, for two builds
// of bicorn at once: node:http fed through an in-memory duplex (64 pipelined keep-alive GETs a
// batch), PythonHost's listener, and a stand-in runner that answers each HTTP_REQUEST with an
// ASGI hello's two frames, encoded and read back through a FrameReader one chunk a turn, as the
// real socket brings them. The two builds' batches alternate, so that the machine's speed, which
// moves by half within minutes on a shared virtual machine, weighs on both alike. Prints each
// build's CPU µs per request (median of rounds of 20 batches) and B's over A's.
//   pnpm build && node scripts/bench/floor/relay_ab.mjs TREE_A TREE_B [rounds]
// TREE_A and TREE_B are checkouts with their packages built (git worktree add, pnpm install,
// pnpm build); the same tree twice shows the harness's own spread (about 1%).
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { Duplex } from 'node:stream';

const [treeA, treeB, roundsArg = '200'] = process.argv.slice(2);
if (treeA === undefined || treeB === undefined) {
  console.error('usage: node relay_ab.mjs TREE_A TREE_B [rounds]');
  process.exit(2);
}
const rounds = Number(roundsArg);
const BATCH = 64;
const BATCHES_PER_ROUND = 20;
const REQUESTS = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n'.repeat(BATCH));
const BODY = Buffer.from('Hello, world!');
const HEADERS = ['content-type', 'text/plain', 'content-length', String(BODY.length)].map((field) => Buffer.from(field));
const noop = () => undefined;
const log = { debug: noop, info: noop, warn: noop, error: noop, child: () => log };

/** A function that serves `count` batches through the tree's PythonHost, resolving once every answer is out. */
async function harness(tree) {
  const root = resolve(tree);
  const { PythonHost, Spool } = await import(`${root}/packages/python/dist/index.js`);
  const { encodeFrame, FrameReader } = await import(`${root}/packages/protocol/dist/index.js`);
  const reader = new FrameReader();
  let due = [];
  const runner = {
    interface: 'asgi',
    pid: 0,
    onFrame: noop,
    onPong: noop,
    send(frame) {
      encodeFrame(frame); // what the real one pays to write it
      if (frame.type === 'ping') setImmediate(() => runner.onPong(frame.seq));
      if (frame.type !== 'http-request') return;
      if (due.length === 0) setImmediate(answerDue);
      due.push(frame.stream);
    },
  };
  function answerDue() {
    const frames = due.flatMap((stream) => [
      encodeFrame({ type: 'http-response', stream, trailers: false, status: 200, headers: HEADERS }),
      encodeFrame({ type: 'http-response-body', stream, more: false, body: BODY }),
    ]);
    due = [];
    reader.push(Buffer.concat(frames), (frame) => runner.onFrame(frame));
  }
  const host = new PythonHost(runner, { window: 1 << 20, rootPath: '', threads: 1, sendAhead: 0, queueTimeoutMs: 0, spool: new Spool(tmpdir(), 1 << 30, 1 << 20), streamWsgiUploads: false, limitRejected: noop, log });

  let answered = 0;
  let batchDone = noop;
  class Wire extends Duplex {
    remoteAddress = '127.0.0.1';
    remotePort = 40000;
    localAddress = '127.0.0.1';
    localPort = 8000;
    _read() {}
    _write(chunk, _encoding, callback) {
      // Answers counted by their status lines.
      for (let at = chunk.indexOf('HTTP/1.1 200'); at !== -1; at = chunk.indexOf('HTTP/1.1 200', at + 1)) answered += 1;
      if (answered % BATCH === 0) batchDone();
      callback();
    }
    _writev(chunks, callback) {
      for (const { chunk } of chunks) this._write(Buffer.from(chunk), 'buffer', noop);
      callback();
    }
    setTimeout() {
      return this;
    }
    setNoDelay() {
      return this;
    }
    setKeepAlive() {
      return this;
    }
  }
  const wire = new Wire();
  createServer(host.listener).emit('connection', wire);
  return async (count) => {
    for (let i = 0; i < count; i += 1) {
      const done = new Promise((resolveBatch) => (batchDone = resolveBatch));
      wire.push(REQUESTS);
      await done;
    }
  };
}

/** CPU µs per request of one round. */
async function round(serve) {
  const before = process.cpuUsage();
  await serve(BATCHES_PER_ROUND);
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / (BATCHES_PER_ROUND * BATCH);
}

const a = await harness(treeA);
const b = await harness(treeB);
// Warm-up, for V8 to optimize both.
await a(300);
await b(300);
const costs = { a: [], b: [] };
for (let i = 0; i < rounds; i += 1) {
  const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
  for (const name of order) costs[name].push(await round(name === 'a' ? a : b));
}
const median = (values) => [...values].sort((x, y) => x - y)[values.length >> 1];
const [costA, costB] = [median(costs.a), median(costs.b)];
console.log(`A ${costA.toFixed(2)} µs/request, B ${costB.toFixed(2)} µs/request, B/A ${(costB / costA).toFixed(3)}`);
process.exit(0);

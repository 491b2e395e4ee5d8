// The worker's side of a request, in one process and without the kernel, for two builds of
// bicorn (or two hosts of one build) at once: node:http fed through in-memory duplexes (64
// keep-alive connections, each sending its next GET once it has its answer, as wrk does) and a
// host's listener. The `python` host is PythonHost with a stand-in runner that answers each
// HTTP_REQUEST with an ASGI hello's two frames, encoded and read back through a FrameReader one
// chunk a turn, as the real socket brings them; `asgi`, `fetch` and `node` are the bench's JS
// hello apps (apps/js_<host>.mjs) as the worker loads them. The two sides' rounds alternate, so
// that the machine's speed, which moves by half within minutes on a shared virtual machine,
// weighs on both alike. Prints each side's CPU µs per request (median of rounds of 1,280
// requests) and B's over A's.
//   pnpm build && node scripts/bench/floor/host_ab.mjs TREE_A[:HOST] TREE_B[:HOST] [rounds]
// TREE_A and TREE_B are checkouts with their packages built (git worktree add, pnpm install,
// pnpm build); HOST is python (the default), asgi, fetch or node. The same side twice shows the
// harness's own spread (about 1%); one tree with two hosts prices one interface against another.
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';

const HOSTS = ['python', 'asgi', 'fetch', 'node'];
const [specA, specB, roundsArg = '200'] = process.argv.slice(2);
const sides = [specA, specB].map((spec) => {
  const [tree, host = 'python'] = (spec ?? '').split(':');
  return { tree, host };
});
if (specA === undefined || specB === undefined || sides.some(({ host }) => !HOSTS.includes(host))) {
  console.error(`usage: node host_ab.mjs TREE_A[:HOST] TREE_B[:HOST] [rounds], HOST one of ${HOSTS.join(', ')}`);
  process.exit(2);
}
const rounds = Number(roundsArg);
const CONNECTIONS = 64;
const REQUESTS_PER_ROUND = 1280;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n');
const BODY = Buffer.from('Hello, world!');
const HEADERS = ['content-type', 'text/plain', 'content-length', String(BODY.length)].map((field) => Buffer.from(field));
const noop = () => undefined;
const log = { debug: noop, info: noop, warn: noop, error: noop, child: () => log };

/** The node:http listener of the tree's PythonHost, which a stand-in runner answers. */
async function pythonListener(root) {
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
  return host.listener;
}

/** The node:http listener of the bench's JS hello app for `host`, loaded by the tree as the worker loads it. */
async function jsListener(root, host) {
  const { loadJsApp } = await import(`${root}/packages/js/dist/index.js`);
  const app = fileURLToPath(new URL(`../apps/js_${host}.mjs`, import.meta.url));
  return (await loadJsApp({ app, interface: host, cwd: root, rootPath: '', lifespan: 'off', log })).listener;
}

/** A function that serves `requests` through the side's listener, resolving once every answer is out. */
async function harness({ tree, host }) {
  const root = resolve(tree);
  const listener = host === 'python' ? await pythonListener(root) : await jsListener(root, host);
  // As wrk: CONNECTIONS keep-alive connections, each sending its next request once it has its answer.
  let left = 0;
  let roundDone = noop;
  class Wire extends Duplex {
    remoteAddress = '127.0.0.1';
    remotePort = 40000;
    localAddress = '127.0.0.1';
    localPort = 8000;
    _read() {}
    _write(chunk, _encoding, callback) {
      // An answer is one write of its head and body (node:http's writev of the two).
      if (chunk.indexOf('HTTP/1.1 200') !== -1) this.#answered();
      callback();
    }
    _writev(chunks, callback) {
      if (chunks.some(({ chunk }) => Buffer.from(chunk).indexOf('HTTP/1.1 200') !== -1)) this.#answered();
      callback();
    }
    #answered() {
      left -= 1;
      if (left >= CONNECTIONS) setImmediate(() => this.push(REQUEST));
      else if (left === 0) roundDone();
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
  const server = createServer(listener);
  const wires = Array.from({ length: CONNECTIONS }, () => {
    const wire = new Wire();
    server.emit('connection', wire);
    return wire;
  });
  return async (requests) => {
    const done = new Promise((resolveRound) => (roundDone = resolveRound));
    left = requests;
    for (const wire of wires) wire.push(REQUEST);
    await done;
  };
}

/** CPU µs per request of one round. */
async function round(serve) {
  const before = process.cpuUsage();
  await serve(REQUESTS_PER_ROUND);
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / REQUESTS_PER_ROUND;
}

const a = await harness(sides[0]);
const b = await harness(sides[1]);
// Warm-up, for V8 to optimize both.
await a(20_000);
await b(20_000);
const costs = { a: [], b: [] };
for (let i = 0; i < rounds; i += 1) {
  const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
  for (const name of order) costs[name].push(await round(name === 'a' ? a : b));
}
const median = (values) => [...values].sort((x, y) => x - y)[values.length >> 1];
const [costA, costB] = [median(costs.a), median(costs.b)];
console.log(`A ${costA.toFixed(2)} µs/request, B ${costB.toFixed(2)} µs/request, B/A ${(costB / costA).toFixed(3)}`);
process.exit(0);

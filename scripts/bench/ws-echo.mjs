#!/usr/bin/env node
// WebSocket echo round trips per second against a server on loopback: `connections` clients
// each send a message, wait for its echo, and send the next, for `seconds`. Prints one JSON
// line: round trips per second, latency percentiles, and errors (a failed connect, an error,
// a close the client did not ask for, an echo that differs). Bounded in time; loopback only.
// A child process of the harness (load.mjs), so the clients do not share its event loop.
//
//   node scripts/bench/ws-echo.mjs ws://127.0.0.1:8000/ws [connections=64] [seconds=6] [bytes=32]
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const [url, connections = '64', seconds = '6', bytes = '32'] = process.argv.slice(2);
if (url === undefined || !/^ws:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(url)) {
  console.error('usage: ws-echo.mjs ws://127.0.0.1:<port>/<path> [connections] [seconds] [bytes] (loopback only)');
  process.exit(2);
}
const message = 'x'.repeat(Number(bytes));
const until = performance.now() + Number(seconds) * 1000;
const latencies = [];
let errors = 0;

function client() {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let sentAt = 0;
    let closing = false;
    const next = () => {
      if (performance.now() >= until) {
        closing = true;
        socket.close(1000);
        return;
      }
      sentAt = performance.now();
      socket.send(message);
    };
    socket.on('open', next);
    socket.on('message', (data) => {
      latencies.push(performance.now() - sentAt);
      if (String(data) !== message) errors += 1;
      next();
    });
    socket.on('close', () => {
      if (!closing) errors += 1;
      resolve();
    });
    socket.on('error', () => {
      errors += 1;
      closing = true;
    });
  });
}

// A server that stops answering must not hold the run: give up a few seconds after the end.
const guard = setTimeout(() => {
  console.log(JSON.stringify({ url, error: 'clients still open 5 s after the end' }));
  process.exit(1);
}, (Number(seconds) + 5) * 1000);
const started = performance.now();
await Promise.all(Array.from({ length: Number(connections) }, client));
clearTimeout(guard);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
console.log(JSON.stringify({ url, connections: Number(connections), roundTrips: latencies.length, roundTripsPerSecond: Math.round(latencies.length / elapsed), p50ms: at(0.5), p99ms: at(0.99), errors }));

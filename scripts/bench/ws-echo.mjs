#!/usr/bin/env node
// WebSocket echo round trips per second against a server on loopback: `connections` clients
// each send a message, wait for its echo, and send the next, for `seconds`. Prints one JSON
// line: round trips per second and latency percentiles. Bounded in time; loopback only.
//
//   node scripts/bench-ws-echo.mjs ws://127.0.0.1:8000/ws [connections=64] [seconds=6] [bytes=32]
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const [url, connections = '64', seconds = '6', bytes = '32'] = process.argv.slice(2);
if (url === undefined || !/^ws:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(url)) {
  console.error('usage: bench-ws-echo.mjs ws://127.0.0.1:<port>/<path> [connections] [seconds] [bytes] (loopback only)');
  process.exit(2);
}
const message = 'x'.repeat(Number(bytes));
const until = performance.now() + Number(seconds) * 1000;
const latencies = [];

function client() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let sentAt = 0;
    const next = () => {
      if (performance.now() >= until) {
        socket.close(1000);
        return;
      }
      sentAt = performance.now();
      socket.send(message);
    };
    socket.on('open', next);
    socket.on('message', () => {
      latencies.push(performance.now() - sentAt);
      next();
    });
    socket.on('close', resolve);
    socket.on('error', reject);
  });
}

const started = performance.now();
await Promise.all(Array.from({ length: Number(connections) }, client));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(2);
console.log(JSON.stringify({ url, connections: Number(connections), roundTripsPerSecond: Math.round(latencies.length / elapsed), p50ms: at(0.5), p99ms: at(0.99) }));

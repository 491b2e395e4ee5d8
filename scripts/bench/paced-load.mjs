#!/usr/bin/env node
// HTTP GETs at a steady rate against a server on loopback: `rate` requests a second in all, for
// `seconds`, each sent when due on a free keep-alive connection of `connections` (a new one when
// the server closed the last, as gunicorn's sync worker does after every answer). A request due
// while every connection is busy is counted as missed, not sent late: the server did not keep
// the rate. Prints one JSON line: requests answered, their rate, latency percentiles, failures
// and non-2xx answers. wrk cannot do this: its only pause comes after a connection is open, and
// a server that reads one connection at a time would wait out every pause. A child process of
// the harness (load.mjs), so the requests do not share its event loop; bounded in time.
//
//   node scripts/bench/paced-load.mjs http://127.0.0.1:8000/ [rate=1000] [connections=64] [seconds=5]
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

const [url, rate = '1000', connections = '64', seconds = '5'] = process.argv.slice(2);
if (url === undefined || !/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(url) || !(Number(rate) > 0) || !(Number(connections) >= 1) || !(Number(seconds) > 0)) {
  console.error('usage: paced-load.mjs http://127.0.0.1:<port>/<path> [rate] [connections] [seconds] (loopback only)');
  process.exit(2);
}
const perSecond = Number(rate);
const forMs = Number(seconds) * 1000;
const agent = new Agent({ keepAlive: true, maxSockets: Number(connections) });
const latencies = [];
let sent = 0;
let missed = 0;
let failed = 0;
let non2xx = 0;
let busy = 0;

function send() {
  busy += 1;
  sent += 1;
  const sentAt = performance.now();
  const req = request(url, { agent }, (res) => {
    res.resume();
    res.on('end', () => {
      busy -= 1;
      latencies.push(performance.now() - sentAt);
      if (res.statusCode >= 400) non2xx += 1;
    });
  });
  req.on('error', () => {
    busy -= 1;
    failed += 1;
  });
  req.end();
}

const started = performance.now();
await new Promise((resolve) => {
  // A tick each millisecond sends what has come due since the last.
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    if (elapsed >= forMs) {
      clearInterval(timer);
      resolve();
      return;
    }
    const due = Math.floor((elapsed * perSecond) / 1000) - sent - missed;
    for (let i = 0; i < due; i += 1) {
      if (busy < Number(connections)) send();
      else missed += 1;
    }
  }, 1);
});
// The last answers, for up to five seconds; an answer still missing then is a failure.
const settleBy = performance.now() + 5000;
while (busy > 0 && performance.now() < settleBy) await new Promise((resolve) => setTimeout(resolve, 10));
failed += busy;
agent.destroy();
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? null;
console.log(JSON.stringify({ url, rate: perSecond, connections: Number(connections), requests: latencies.length, requestsPerSecond: Math.round(latencies.length / elapsed), p50ms: at(0.5), p99ms: at(0.99), missed, failed, non2xx }));
process.exit(0);

// The floor of bicorn's design for a Python app: a node:http server that relays each request to
// a second process over a socket pair and writes what comes back, with nothing else on the path
// (no limits, logs, timeouts, checks or full frames). What it costs per request, beside
// bicorn and uvicorn, bounds what two processes can reach (scripts/bench/README.md, "Floor").
//   node relay.mjs PORT [asgi]   (python3 on PATH must have uvloop)
import { createServer } from 'node:http';
import { linkToRunner } from './relay-link.mjs';

const [port = '8000', mode = 'echo'] = process.argv.slice(2);
const HEADERS = { 'content-type': 'text/plain', 'content-length': '13' };

const link = linkToRunner(mode, (res, body) => {
  res.writeHead(200, HEADERS);
  res.end(body);
});

createServer((req, res) => {
  link.send(res);
  req.resume();
}).listen(Number(port), '127.0.0.1');

process.on('SIGTERM', () => {
  link.stop();
  process.exit(0);
});

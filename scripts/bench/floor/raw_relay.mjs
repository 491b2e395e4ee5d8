// relay.mjs without node:http: the same relay of each request to a second process, behind a
// front that reads HTTP/1.1 requests off the socket itself (a request line and headers, no body:
// enough for wrk's GETs, nothing more) and writes each response as one buffer with the headers
// node:http would send. Beside relay.mjs, what node:http itself costs a relayed request.
//   node raw_relay.mjs PORT [asgi]   (python3 on PATH must have uvloop)
import { createServer } from 'node:net';
import { linkToRunner } from './relay-link.mjs';

const [port = '8000', mode = 'echo'] = process.argv.slice(2);
const HEAD_END = Buffer.from('\r\n\r\n');

// node:http's headers for the same answer, its Date refreshed once a second as node does.
let head = Buffer.alloc(0);
function refreshHead() {
  head = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\nDate: ${new Date().toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n`, 'latin1');
}
refreshHead();
setInterval(refreshHead, 1000).unref();

const link = linkToRunner(mode, (socket, body) => {
  if (socket.destroyed) return;
  const answer = Buffer.allocUnsafe(head.length + body.length);
  head.copy(answer);
  body.copy(answer, head.length);
  socket.write(answer);
});

createServer({ noDelay: true }, (socket) => {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    let data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (let end = data.indexOf(HEAD_END); end !== -1; end = data.indexOf(HEAD_END)) {
      link.send(socket);
      data = data.subarray(end + 4);
    }
    pending = data;
  });
  socket.on('error', () => undefined);
}).listen(Number(port), '127.0.0.1');

process.on('SIGTERM', () => {
  link.stop();
  process.exit(0);
});

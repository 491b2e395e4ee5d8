// The ceiling for a Node front: a bare node:cluster of node:http servers answering hello world
// with the same listener as js_node.mjs. `node node_cluster.mjs <workers> <port>` on 127.0.0.1.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import app from './js_node.mjs';

const [workers = '1', port = '8000'] = process.argv.slice(2);
if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i += 1) cluster.fork();
  // A worker that dies (EADDRINUSE at listen) takes the cluster down, so the harness sees the
  // exit. The harness stops the cluster by signalling its process group, workers included.
  cluster.on('exit', () => process.exit(1));
} else {
  const server = createServer(app);
  server.keepAliveTimeout = 5000;
  server.listen(Number(port), '127.0.0.1');
  server.on('error', (error) => {
    console.error(String(error));
    process.exit(1);
  });
}

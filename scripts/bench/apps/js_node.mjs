// The Node request listener of the benchmarks: hello world, the same code as node_cluster.mjs.
export default function app(req, res) {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '13' });
  res.end('Hello, world!');
}

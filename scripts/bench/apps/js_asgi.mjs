// The JS ASGI app of the benchmarks: hello world, as asgi_hello.py answers it.
const hello = new TextEncoder().encode('Hello, world!');
const headers = [
  [new TextEncoder().encode('content-type'), new TextEncoder().encode('text/plain')],
  [new TextEncoder().encode('content-length'), new TextEncoder().encode(String(hello.length))],
];

export default async function app(scope, receive, send) {
  if (scope.type !== 'http') return;
  await send({ type: 'http.response.start', status: 200, headers });
  await send({ type: 'http.response.body', body: hello });
}

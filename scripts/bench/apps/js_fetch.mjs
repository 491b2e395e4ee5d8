// The JS fetch handler of the benchmarks: hello world.
export default {
  fetch() {
    return new Response('Hello, world!', { headers: { 'content-type': 'text/plain' } });
  },
};

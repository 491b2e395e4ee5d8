// The example app: a fetch handler, the shape Hono, Bun and Deno apps share.
// Serve it with: pnpm exec bicorn -w 2 packages/bicorn/examples/hello.mjs
export default {
  fetch(request) {
    const url = new URL(request.url);
    return Response.json({ hello: 'world', path: url.pathname, pid: process.pid });
  },
};

// A client that half-closes (shuts down its write side) after a complete request still gets
// its answer, from every interface; one that half-closes mid-request has gone away.
import { describe, expect, it } from 'vitest';
import { rawExchange, requestOf, runnableApps, serveFront } from './support/front.js';

describe.each(runnableApps)('a $name app', (app) => {
  it('answers a complete request whose client then shuts down its write side', async () => {
    const bicorn = serveFront(app);
    const url = await bicorn.listening();
    const closing = await rawExchange(url, requestOf('GET /closing HTTP/1.1', 'Host: a', 'Connection: close'), { halfClose: true });
    expect(closing.status, closing.raw).toBe(200);
    expect(closing.body).toContain('"/closing"');
    // Keep-alive asked, then a FIN: the answer comes, and then the connection closes.
    const keepAlive = await rawExchange(url, requestOf('POST /kept HTTP/1.1', 'Host: a', 'Content-Length: 5') + 'hello', { halfClose: true });
    expect(keepAlive.status, keepAlive.raw).toBe(200);
    expect(keepAlive.body).toContain('"body_length":5');
    expect(keepAlive.closed).toBe(true);
    const old = await rawExchange(url, requestOf('GET /old HTTP/1.0'), { halfClose: true });
    expect(old.status, old.raw).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers nothing to a client that shuts down its write side mid-request', async () => {
    const bicorn = serveFront(app);
    const url = await bicorn.listening();
    const cut = await rawExchange(url, `${requestOf('POST /cut HTTP/1.1', 'Host: a', 'Content-Length: 10')}abc`, { halfClose: true });
    expect(cut.raw).toBe('');
    expect(cut.closed).toBe(true);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

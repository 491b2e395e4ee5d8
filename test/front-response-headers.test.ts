// The headers the front adds to every response (uvicorn's --server-header, --date-header and
// --header), for every interface, unless the app sets them itself; refusals carry them too.
import { describe, expect, it } from 'vitest';
import { frontApp, rawExchange, requestOf, runnableApps, serveFront } from './support/front.js';

const GET = (path: string) => requestOf(`GET ${path} HTTP/1.1`, 'Host: a', 'Connection: close');

function headersOf(head: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return headers;
}

describe.each(runnableApps)('a $name app', (app) => {
  it('answers with Server: bicorn and a Date by default, and with the --header lines when asked', async () => {
    const plain = serveFront(app);
    const headers = headersOf((await rawExchange(await plain.listening(), GET('/'))).head);
    expect(headers.get('server')).toEqual(['bicorn']);
    expect(headers.get('date')).toHaveLength(1);
    expect((await plain.stop()).code).toBe(0);

    const custom = serveFront(app, ['--no-server-header', '--no-date-header', '--header', 'X-Frame-Options:DENY', '--header', 'X-Served-By: front']);
    const answer = await rawExchange(await custom.listening(), GET('/'));
    expect(answer.status).toBe(200);
    const own = headersOf(answer.head);
    expect([own.get('server'), own.get('date'), own.get('x-frame-options'), own.get('x-served-by')]).toEqual([undefined, undefined, ['DENY'], ['front']]);
    expect((await custom.stop()).code).toBe(0);
  });
});

describe('default response headers', () => {
  it("give way to the app's own", async () => {
    const bicorn = serveFront(frontApp('node'));
    const url = await bicorn.listening();
    expect(headersOf((await rawExchange(url, GET('/own-server'))).head).get('server')).toEqual(['own']);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("give way to the app's own in writeHead, whatever the case of either name", async () => {
    const bicorn = serveFront(frontApp('node'), ['--header', 'X-Frame-Options:DENY']);
    const own = headersOf((await rawExchange(await bicorn.listening(), GET('/own-head'))).head);
    expect([own.get('server'), own.get('x-frame-options')]).toEqual([['own'], ['SAMEORIGIN']]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('go with the refusals the front answers itself', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--header', 'X-Frame-Options:DENY']);
    const url = await bicorn.listening();
    for (const request of [requestOf('GET / HTTP/1.1'), requestOf('GET / HTTP/1.1', 'Host : a')]) {
      const refused = headersOf((await rawExchange(url, request)).head);
      expect([refused.get('server'), refused.get('x-frame-options')]).toEqual([['bicorn'], ['DENY']]);
    }
    expect((await bicorn.stop()).code).toBe(0);
  });
});

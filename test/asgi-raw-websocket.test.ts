// End-to-end checks of ASGI WebSocket with a raw Python ASGI app (test/fixtures/python/raw_asgi.py)
// and the `ws` package as the client: subprotocols, accept headers, text and bytes, close codes
// both ways, denials, limits and the close of a graceful stop.
import { describe, expect, it } from 'vitest';
import { hasPython, noPython } from './support/python.js';
import { errorNaming, observed, serveRaw } from './support/raw-asgi.js';
import { openWs, refusal, wsUrl } from './support/websocket.js';

describe.skipIf(!hasPython)(`a raw Python ASGI app over WebSocket (ws client)${noPython}`, () => {
  it('negotiates a subprotocol, sends extra headers, echoes text and bytes, and gets the scope', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/echo?room=caf%C3%A9'), ['bicorn.v1', 'bicorn.v2']);
    expect(client.ws.protocol).toBe('bicorn.v2');
    expect(client.upgradeHeaders['x-accepted-by']).toBe('raw_asgi');
    expect(client.upgradeHeaders['sec-websocket-protocol']).toBe('bicorn.v2');

    client.ws.send('héllo 🦄');
    expect(await client.next()).toEqual({ data: 'echo: héllo 🦄', binary: false });
    client.ws.send(Buffer.from([0, 1, 2, 255]));
    expect(await client.next()).toEqual({ data: 'echo:\x00\x01\x02\xff', binary: true });
    client.ws.send('burst 50');
    for (let i = 0; i < 50; i++) expect((await client.next()).data).toBe(`burst ${String(i)}`);

    client.ws.send('scope');
    const scope = JSON.parse((await client.next()).data) as Record<string, unknown>;
    expect(scope).toMatchObject({
      type: 'websocket',
      asgi: { version: '3.0' },
      http_version: '1.1',
      scheme: 'ws',
      path: '/ws/echo',
      raw_path: '/ws/echo',
      query_string: 'room=caf%C3%A9',
      root_path: '',
      subprotocols: ['bicorn.v1', 'bicorn.v2'],
      server: ['127.0.0.1', Number(new URL(url).port)],
    });
    expect(scope.headers).toContainEqual(['sec-websocket-protocol', expect.stringMatching(/^bicorn\.v1, ?bicorn\.v2$/)]);
    expect(scope.state).toEqual(['greeting', 'hits']);

    client.ws.close(4321, 'client bye');
    expect((await client.closed).code).toBe(4321);
    expect(await observed(url, 'ws_disconnect')).toMatchObject({ code: 4321 });
    expect(await observed(url, 'ws_send_after_disconnect')).toMatchObject({ oserror: true });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('closes with the app\'s code and reason, 1000 when the app returns, and 1011 when it fails', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/echo'));
    expect(client.ws.protocol).toBe('');
    client.ws.send('close');
    expect(await client.closed).toEqual({ code: 4001, reason: 'bye from raw_asgi' });

    expect((await (await openWs(wsUrl(url, '/ws/return-after-accept'))).closed).code).toBe(1000);
    expect((await (await openWs(wsUrl(url, '/ws/fail-after-accept'))).closed).code).toBe(1011);
    await bicorn.waitForLog('the traceback', errorNaming('LookupError: raw_asgi failed after accepting'));
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 403 to a close before accept, the app\'s own denial response, and 500 to a failure before accept', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    expect((await refusal(wsUrl(url, '/ws/deny'))).status).toBe(403);
    const denied = await refusal(wsUrl(url, '/ws/deny-custom'));
    expect(denied).toMatchObject({ status: 401, body: 'no token, no entry' });
    expect(denied.headers['www-authenticate']).toBe('Bearer');
    expect((await refusal(wsUrl(url, '/ws/fail-before-accept'))).status).toBe(500);
    await bicorn.waitForLog('the traceback', errorNaming('LookupError: raw_asgi refused to accept'));
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('closes a connection whose message is larger than --ws-max-size with 1009', async () => {
    const bicorn = serveRaw(['--ws-max-size', '1024']);
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/echo'));
    client.ws.send('x'.repeat(1000));
    expect((await client.next()).data).toBe(`echo: ${'x'.repeat(1000)}`);
    client.ws.send('x'.repeat(2000));
    expect((await client.closed).code).toBe(1009);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('closes open WebSockets with 1001 on a graceful stop, and the app hears it', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/echo'));
    client.ws.send('ping');
    expect((await client.next()).data).toBe('echo: ping');
    const stopped = bicorn.stop();
    expect((await client.closed).code).toBe(1001);
    expect((await stopped).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.stream === 'stdout').map((l) => l.msg)).toContain('raw_asgi: websocket disconnect 1001');
  });
});

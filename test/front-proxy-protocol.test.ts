// The PROXY protocol (v1 and v2) on every bind, before TLS on an HTTPS one: the header's client becomes the connection's
// peer for every interface (a Node listener's req.socket too); a missing or malformed header,
// or one from a peer not allowed, closes the connection; the health bind never expects it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { frontApp, rawExchange, requestOf, runnableApps, serveFront, transports } from './support/front.js';
import { get } from './support/http.js';
import { tempDir } from './support/temp-dir.js';

const GET = requestOf('GET /who HTTP/1.1', 'Host: a', 'Connection: close');
const v1 = (client: string, port: number) => `PROXY TCP4 ${client} 127.0.0.1 ${String(port)} 8000\r\n`;

function v2(client: readonly number[], port: number): Buffer {
  const header = Buffer.alloc(28);
  Buffer.from('0d0a0d0a000d0a515549540a', 'hex').copy(header, 0);
  header[12] = 0x21;
  header[13] = 0x11;
  header.writeUInt16BE(12, 14);
  Buffer.from(client).copy(header, 16);
  Buffer.from([127, 0, 0, 1]).copy(header, 20);
  header.writeUInt16BE(port, 24);
  header.writeUInt16BE(8000, 26);
  return header;
}

/** The client an echo app reports, from its JSON answer. */
function clientOf(body: string): unknown {
  return (JSON.parse(body) as { client: unknown }).client;
}

describe.each(runnableApps.filter((app) => app.name !== 'fetch'))('a $name app', (app) => {
  it.each(transports)("sees the header's client as the peer, from a v1 or a v2 header, over %s", async (transport) => {
    // The flag alone means auto: v1 and v2 both. On TLS the header comes before the handshake.
    const bicorn = serveFront(app, ['--proxy-protocol', '--workers', '1'], transport);
    const url = await bicorn.listening();
    const fromV1 = await rawExchange(url, GET, { proxyHeader: v1('203.0.113.7', 56324) });
    expect(fromV1.status, fromV1.raw).toBe(200);
    expect(clientOf(fromV1.body)).toEqual(['203.0.113.7', 56324]);
    const fromV2 = await rawExchange(url, GET, { proxyHeader: v2([198, 51, 100, 9], 4711) });
    expect(clientOf(fromV2.body)).toEqual(['198.51.100.9', 4711]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('the PROXY protocol', () => {
  it('closes a connection whose allowed peer sends no header, or a malformed one, or one of the other version', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--proxy-protocol', 'v1']);
    const url = await bicorn.listening();
    for (const bytes of [GET, `PROXY TCP4 203.0.113.7 127.0.0.1 65iii 8000\r\n${GET}`, Buffer.concat([v2([1, 2, 3, 4], 1), Buffer.from(GET)])]) {
      const answer = await rawExchange(url, bytes);
      expect(answer.raw).toBe('');
      expect(answer.closed).toBe(true);
    }
    expect(bicorn.lines.filter((l) => l.msg === 'PROXY protocol: connection closed').map((l) => l.reason)).toEqual([
      'no PROXY header from a proxy allowed to send one',
      'v1 ports that are not 0-65535 without leading zeros',
      'no PROXY header from a proxy allowed to send one',
    ]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('serves a peer not in proxy_allow_ips as plain HTTP, and closes its connection when it sends a header', async () => {
    const bicorn = serveFront(frontApp('js-asgi'), ['--proxy-protocol', 'auto', '--proxy-allow-from', '10.0.0.1']);
    const url = await bicorn.listening();
    const plain = await rawExchange(url, GET);
    expect(clientOf(plain.body)).toEqual(['127.0.0.1', expect.any(Number)]);
    const spoofed = await rawExchange(url, v1('203.0.113.7', 1) + GET);
    expect(spoofed.raw).toBe('');
    expect(spoofed.closed).toBe(true);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('is expected from peers on a unix socket, and never on the health bind', async () => {
    const socketPath = join(tempDir('bicorn-front-'), 'app.sock');
    const bicorn = new BicornProcess(['-b', `unix:${socketPath}`, '--proxy-protocol', 'v1', '--health-bind', '127.0.0.1:0', '--interface', 'asgi', fixture('front/echo-asgi.mjs')]);
    await bicorn.listening();
    const health = `http://${String((await bicorn.waitForLog('the health endpoints', (l) => l.msg === 'health endpoints listening')).address)}`;
    const answer = await rawExchange('http://localhost', v1('203.0.113.7', 56324) + GET, { socketPath });
    expect(clientOf(answer.body)).toEqual(['203.0.113.7', 56324]);
    const bare = await rawExchange('http://localhost', GET, { socketPath });
    expect(bare.raw).toBe('');
    expect((await get(`${health}/livez`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

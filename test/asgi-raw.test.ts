// End-to-end checks of the ASGI 3.0 HTTP contract with a raw Python ASGI app (no framework,
// test/fixtures/python/raw_asgi.py): the scope, the request and disconnect events, send()
// errors, the event-order rules and the extensions. WebSocket and lifespan are in
// asgi-raw-websocket.test.ts and asgi-raw-lifespan.test.ts.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { get, post } from './support/http.js';
import { hasPython, noPython, pythonFixtures } from './support/python.js';
import { errorNaming, observed, serveRaw } from './support/raw-asgi.js';

interface Outcome {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Whether the body ended cleanly, rather than by the connection being cut. */
  readonly complete: boolean;
  readonly trailers: Record<string, string | undefined>;
  /** The 1xx responses before the final one: status and raw header pairs. */
  readonly informational: { status: number; rawHeaders: string[] }[];
}

/** A request on a fresh connection that reports a cut-off body instead of failing. */
function fetchOutcome(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const informational: Outcome['informational'] = [];
    const req = request(url, { method: options.method ?? 'GET', agent: false, headers: options.headers }, (res) => {
      let body = '';
      let settled = false;
      const finish = (complete: boolean) => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, complete, trailers: res.trailers, informational });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        finish(true);
      });
      res.on('aborted', () => {
        finish(false);
      });
      res.on('error', () => {
        finish(false);
      });
      res.on('close', () => {
        finish(res.complete);
      });
    });
    req.on('information', (info) => informational.push({ status: info.statusCode, rawHeaders: info.rawHeaders }));
    req.on('error', reject);
    // A server that never ends the response fails the request by name, not the whole test by timeout.
    req.setTimeout(10_000, () => {
      req.destroy(new Error(`no complete answer to ${url} within 10 s`));
    });
    req.end(options.body);
  });
}

/** Writes a request byte for byte on a new socket and returns all the server sent back. */
function rawExchange(url: string, head: string): Promise<{ response: string; localPort: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Not end(): a half-closed request may be dropped; Connection: close ends the exchange.
    let localPort = 0;
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      localPort = socket.localPort ?? 0;
      socket.write(head);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve({ response: Buffer.concat(chunks).toString('latin1'), localPort });
    });
  });
}

/** GETs a streamed response, and hangs up once its first body bytes arrive. */
function leaveAfterFirstChunk(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The hang-up is ours.
      if (error.code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}

describe.skipIf(!hasPython)(`a raw Python ASGI app over HTTP/1.1${noPython}`, () => {
  it('gets the HTTP scope: versions, decoded path, raw path, query, root path, ordered headers, client and server', async () => {
    const bicorn = serveRaw(['--root-path', '/mount']);
    const url = await bicorn.listening();
    const { host, port } = new URL(url);
    const head = [
      // As a proxy that strips the root path sends it: bicorn puts /mount back in front.
      'GET /scope/caf%C3%A9%20au%20lait/a%2Fb?q=%20x&q=y&empty= HTTP/1.1',
      `Host: ${host}`,
      'X-Repeat: first',
      'X-Other: between',
      'x-repeat: second',
      'X-Mixed-CASE: Value Case Kept',
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    const { response, localPort } = await rawExchange(url, head);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    const scope = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(scope).toMatchObject({
      type: 'http',
      asgi: { version: '3.0', spec_version: '2.5' },
      http_version: '1.1',
      method: 'GET',
      scheme: 'http',
      // Percent-decoded UTF-8, %2F included; raw_path keeps the bytes as sent.
      path: '/mount/scope/café au lait/a/b',
      raw_path: '/mount/scope/caf%C3%A9%20au%20lait/a%2Fb',
      query_string: 'q=%20x&q=y&empty=',
      root_path: '/mount',
      client: ['127.0.0.1', localPort],
      server: ['127.0.0.1', Number(port)],
    });
    const headers = (scope.headers as [string, string][]).filter(([name]) => name.startsWith('x-'));
    expect(headers).toEqual([
      ['x-repeat', 'first'],
      ['x-other', 'between'],
      ['x-repeat', 'second'],
      ['x-mixed-case', 'Value Case Kept'],
    ]);
    expect(scope.headers).toContainEqual(['host', host]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('streams a large upload as http.request events with more_body, and a chunked one whole', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const data = randomBytes(3 * 1024 * 1024);
    const big = await fetchOutcome(`${url}/upload`, { method: 'POST', headers: { 'content-length': String(data.length) }, body: data });
    const report = JSON.parse(big.body) as { types: string[]; events: number; more_body: boolean[]; size: number; sha256: string };
    expect(report.types).toEqual(['http.request']);
    expect(report.size).toBe(data.length);
    expect(report.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(report.events).toBeGreaterThan(1);
    expect(report.more_body).toEqual([...Array<boolean>(report.events - 1).fill(true), false]);
    const chunked = JSON.parse((await post(`${url}/upload`, ['ab', 'cd', 'ef'])).body) as { size: number; more_body: boolean[] };
    expect(chunked.size).toBe(6);
    expect(chunked.more_body.at(-1)).toBe(false);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('gives http.disconnect after the response, and when the client leaves mid-response; send() then raises an OSError that is not logged', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    expect((await get(`${url}/after-response`)).body).toBe('done');
    expect(await observed(url, 'after_response')).toBe('http.disconnect');

    expect(await leaveAfterFirstChunk(`${url}/wait-disconnect`)).toBe(200);
    expect(await observed(url, 'while_sending')).toBe('http.disconnect');

    expect(await leaveAfterFirstChunk(`${url}/send-after-disconnect`)).toBe(200);
    expect(await observed(url, 'send_after_disconnect')).toMatchObject({ oserror: true });
    // Still serving, and nothing about the client's departure was logged as the app's error.
    expect((await get(`${url}/`)).status).toBe(404);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(bicorn.lines.filter((l) => l.stream === 'stderr')).toEqual([]);
  });

  it('raises out of send() for invalid events, naming the field, and still takes a valid response', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const answer = await get(`${url}/invalid`);
    expect(answer.status).toBe(200);
    const raised = JSON.parse(answer.body) as Record<string, string | null>;
    for (const field of ['type', 'status', 'headers', 'body', 'more_body']) {
      expect(raised[field], `the error for an invalid '${field}'`).toMatch(new RegExp(`'?${field}'?`));
    }
    // Each message says which field was wrong, not just that the event was.
    expect(raised.status).toMatch(/status must be an integer from 200 to 599/);
    expect(raised.more_body).toMatch(/more_body must be a boolean/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('enforces the event order: 500 before anything was sent, a cut connection after, and an error log naming the rule', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    expect((await fetchOutcome(`${url}/order/body-before-start`)).status).toBe(500);
    await bicorn.waitForLog('the rule for a body before start', errorNaming('http.response.body sent before http.response.start'));
    expect((await fetchOutcome(`${url}/order/start-twice`)).status).toBe(500);
    await bicorn.waitForLog('the rule for a second start', errorNaming('http.response.start sent twice'));

    // The response was complete on the wire: the client has it, the violation is logged. With
    // trailers the final body need not end the response, so the rule's tail is left open.
    expect(await fetchOutcome(`${url}/order/after-final`)).toMatchObject({ status: 200, body: 'complete', complete: true });
    await bicorn.waitForLog('the rule for a body after the final one', errorNaming('http.response.body sent after the'));

    // The head and part of the body went out: only cutting the connection tells the client.
    expect(await fetchOutcome(`${url}/order/start-mid-body`)).toMatchObject({ status: 200, body: 'partial\n', complete: false });
    await bicorn.waitForLog('the rule for a start mid-body', errorNaming('http.response.start sent twice'));
    expect((await get(`${url}/observed`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers 500 for an exception before the response starts, and cuts the connection after', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const before = await fetchOutcome(`${url}/fail/before-start`);
    expect(before.status).toBe(500);
    expect(before.body).not.toContain('raw_asgi failed');
    await bicorn.waitForLog('the traceback', errorNaming('LookupError: raw_asgi failed before the response started'));
    expect(await fetchOutcome(`${url}/fail/after-start`)).toMatchObject({ status: 200, body: 'partial\n', complete: false });
    await bicorn.waitForLog('the traceback', errorNaming('LookupError: raw_asgi failed mid-response'));
    expect((await get(`${url}/observed`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('advertises and honours the trailers (with TE: trailers), pathsend and early-hint extensions', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const plain = JSON.parse((await get(`${url}/extensions`)).body) as string[];
    expect(plain).toEqual(expect.arrayContaining(['http.response.pathsend', 'http.response.early_hint']));
    expect(plain).not.toContain('http.response.trailers');
    const withTe = JSON.parse((await fetchOutcome(`${url}/extensions`, { headers: { te: 'trailers' } })).body) as string[];
    expect(withTe).toContain('http.response.trailers');

    const trailed = await fetchOutcome(`${url}/trailers`, { headers: { te: 'trailers' } });
    expect(trailed).toMatchObject({ status: 200, body: 'one\ntwo\nthree\n', complete: true });
    expect(trailed.trailers['x-checksum']).toBe(createHash('sha256').update('one\ntwo\nthree\n').digest('hex'));
    expect((await get(`${url}/trailers`)).body).toBe('no trailers extension');

    const sent = await fetchOutcome(`${url}/pathsend`);
    expect(sent.status).toBe(200);
    expect(sent.headers['content-type']).toBe('text/x-python');
    expect(sent.body).toBe(readFileSync(`${pythonFixtures}/raw_asgi.py`, 'utf8'));

    const hinted = await fetchOutcome(`${url}/early-hint`);
    expect(hinted).toMatchObject({ status: 200, body: 'hinted' });
    expect(hinted.informational.map((i) => i.status)).toEqual([103]);
    const links = (hinted.informational[0]?.rawHeaders ?? []).filter((_, i, raw) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === 'link');
    expect(links.join(', ')).toBe('</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

// End-to-end checks of the ASGI 3.0 contract with a raw Python ASGI app (no framework,
// test/fixtures/python/raw_asgi.py): the HTTP scope and events, the event-order rules, the
// extensions, WebSocket over the `ws` client, and lifespan. One worker each, so that what the
// app observed after a response (GET /observed) comes from the process that served it.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runBicorn, type BicornProcess, type LogLine } from './support/bicorn-process.js';
import { get, post } from './support/http.js';
import { hasPython, pythonFixtures, servePython } from './support/python.js';

const serveRaw = (extra: readonly string[] = []): BicornProcess => servePython('raw_asgi:app', extra);

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

/** Polls GET /observed until the app has recorded `key`; a bounded wait, never a fixed sleep. */
async function observed(url: string, key: string, timeoutMs = 10_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = JSON.parse((await get(`${url}/observed`)).body) as Record<string, unknown>;
    if (key in seen) return seen[key];
    if (Date.now() > deadline) throw new Error(`the app never observed ${key}; it has ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const errorNaming = (text: string) => (line: LogLine) => line.level >= 50 && JSON.stringify(line).includes(text);

describe.skipIf(!hasPython)('a raw Python ASGI app over HTTP/1.1', () => {
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
    expect(raised.status).toMatch(/'status'/);
    expect(raised.more_body).toMatch(/'more_body'/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('enforces the event order: 500 before anything was sent, a cut connection after, and an error log naming the rule', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    expect((await fetchOutcome(`${url}/order/body-before-start`)).status).toBe(500);
    await bicorn.waitForLog('the rule for a body before start', errorNaming('http.response.body sent before http.response.start'));
    expect((await fetchOutcome(`${url}/order/start-twice`)).status).toBe(500);
    await bicorn.waitForLog('the rule for a second start', errorNaming('http.response.start sent twice'));

    // The response was complete on the wire: the client has it, the violation is logged.
    expect(await fetchOutcome(`${url}/order/after-final`)).toMatchObject({ status: 200, body: 'complete', complete: true });
    await bicorn.waitForLog('the rule for a body after the final one', errorNaming('http.response.body sent after the final http.response.body'));

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

// --- WebSocket, with the `ws` package as the client ------------------------------------------

interface Message {
  readonly data: string;
  readonly binary: boolean;
}

/** A ws client whose messages and close can be awaited in order. */
class Client {
  readonly #queue: Message[] = [];
  readonly #waiters: ((m: Message) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket, readonly upgradeHeaders: Record<string, string | string[] | undefined>) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const message = { data: binary ? data.toString('latin1') : data.toString('utf8'), binary };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
  }

  next(): Promise<Message> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      void this.closed.then(({ code }) => reject(new Error(`the connection closed (${String(code)}) before a message came`)));
    });
  }
}

function wsUrl(url: string, path: string): string {
  return url.replace(/^http/, 'ws') + path;
}

/** Opens a WebSocket, or fails with the HTTP answer that refused it. */
function openWs(url: string, protocols: string[] = []): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    let headers: Record<string, string | string[] | undefined> = {};
    ws.once('upgrade', (res) => (headers = res.headers));
    ws.once('open', () => {
      resolve(new Client(ws, headers));
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`refused with HTTP ${String(res.statusCode)}`));
    });
  });
}

/** Connects expecting a refusal, and returns the HTTP answer. */
function refusal(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the WebSocket was accepted'));
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
  });
}

describe.skipIf(!hasPython)('a raw Python ASGI app over WebSocket (ws client)', () => {
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

// --- lifespan --------------------------------------------------------------------------------

describe.skipIf(!hasPython)('ASGI lifespan for Python apps', () => {
  it('runs startup before taking traffic, gives each request a shallow copy of the state, and runs shutdown on stop', async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    // The first request, at once: startup had completed (it sets the state after a delay).
    expect(JSON.parse((await get(`${url}/state`)).body)).toEqual({ greeting: 'hello from lifespan', hits: 0 });
    // The request's own change to the state stayed in its copy; the shared list did not.
    expect(JSON.parse((await get(`${url}/state`)).body)).toEqual({ greeting: 'hello from lifespan', hits: 1 });
    expect(JSON.parse((await get(`${url}/scope`)).body)).toMatchObject({ state: ['greeting', 'hits'] });
    expect((await bicorn.stop()).code).toBe(0);
    const said = bicorn.lines.filter((l) => l.stream === 'stdout').map((l) => l.msg);
    expect(said).toEqual(['raw_asgi: lifespan startup complete', 'raw_asgi: lifespan shutdown complete after 2 hits']);
  });

  it('sends no lifespan events with --lifespan off', async () => {
    const bicorn = serveRaw(['--lifespan', 'off']);
    const url = await bicorn.listening();
    const state = JSON.parse((await get(`${url}/state`)).body) as unknown;
    // No state at all, or one that no startup filled.
    if (state !== null) expect(state).toEqual({ greeting: null, hits: 0 });
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.stream === 'stdout')).toEqual([]);
  });

  it('does not boot an app whose startup fails: exit 3 with the app\'s message', async () => {
    const result = await runBicorn(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, 'lifespan_fails:app']);
    expect(result.code).toBe(3);
    expect(result.stdout + result.stderr).toContain('lifespan_fails: the database at db.invalid:5432 is unreachable');
  });

  it('serves an app without lifespan support under --lifespan auto with one info line, and refuses it under --lifespan on', async () => {
    const bicorn = servePython('no_lifespan:app');
    const url = await bicorn.listening();
    expect(await get(`${url}/`)).toMatchObject({ status: 200 });
    expect((await bicorn.stop()).code).toBe(0);
    const mentions = bicorn.lines.filter((l) => /lifespan/i.test(l.msg));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]?.level).toBe(30);

    const on = await runBicorn(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, '--lifespan', 'on', 'no_lifespan:app']);
    expect(on.code).toBe(3);
    expect(on.stdout + on.stderr).toContain('no_lifespan only serves HTTP');
  });
});

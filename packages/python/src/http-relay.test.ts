import type { EncodableFrame, Frame, LimitKind } from '@bicorn/protocol';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, recordingLog, send, startServer, type ClientResponse, type TestServer } from '@bicorn/test-support';
import { HttpRelay } from './http-relay.js';
import { RequestBody } from './request-body.js';
import { RequestStream } from './request-stream.js';
import type { SocketLender } from './socket-lender.js';
import { Spool } from './spool.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const settle = () => new Promise((resolve) => setImmediate(resolve));
const MiB = 1024 * 1024;

/** Reads `bytes` from a socket's descriptor directly, as the runner does with one lent to it (node has stopped reading it). */
async function readDescriptor(socket: Socket | undefined, bytes: number): Promise<Buffer> {
  const fd = (socket as (Socket & { _handle?: { fd?: number } }) | undefined)?._handle?.fd;
  if (fd === undefined) throw new Error('no descriptor to read');
  const into = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    try {
      got += readSync(fd, into, got, bytes - got, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await settle();
    }
  }
  return into;
}

/** A server whose one request is relayed to a fake runner: the test plays the runner through `relay.onFrame`. */
async function setup(
  options: {
    interface?: 'wsgi' | 'asgi';
    window?: number;
    admit?: () => boolean | Promise<boolean>;
    spoolBytes?: number;
    memoryBytes?: number;
    streamWsgiUploads?: boolean;
    /** Started by run(), as the host does, instead of start(); `send`: the runner's, instead of recording frames. */
    run?: boolean;
    send?: (frame: EncodableFrame) => void;
    lender?: SocketLender;
  } = {},
) {
  const frames: EncodableFrame[] = [];
  const { log, entries } = recordingLog();
  const relayed = deferred<HttpRelay>();
  /** Each end of the stream: whether the runner may still be running it then, and a body file then left to the host. */
  const ends: boolean[] = [];
  const heldFiles: (RequestBody | undefined)[] = [];
  const refused: LimitKind[] = [];
  /** The frames sent by the time run() or start() returned. */
  let sentAtReturn = -1;
  const server = await startServer((req, res) => {
    const relay = new HttpRelay(7, { send: options.send ?? ((frame) => frames.push(frame)) }, req, res, {
      window: options.window ?? 1 << 20,
      rootPath: '',
      interface: options.interface ?? 'asgi',
      spool: new Spool(tmpdir(), options.spoolBytes ?? 1 << 30, options.memoryBytes ?? 1 << 20),
      streamWsgiUploads: options.streamWsgiUploads ?? false,
      lender: () => options.lender,
      holding: () => true,
      log,
      admit: options.admit ?? (() => Promise.resolve(true)),
      refused: (kind) => refused.push(kind),
      onStreamEnd: (_relay, runnerStillBusy, bodyFile) => {
        ends.push(runnerStillBusy);
        heldFiles.push(bodyFile);
      },
    });
    // Started first: its admission (at once here) comes before the test sees the relay.
    if (options.run === true) relay.run();
    else void relay.start();
    sentAtReturn = frames.length;
    relayed.resolve(relay);
  });
  servers.push(server);
  return { server, frames, entries, relay: relayed.promise, ended: () => ends.length, ends, heldFiles, refused, sentAtReturn: () => sentAtReturn };
}

const response = (headers: string[] = [], trailers = false): Frame => ({
  type: 'http-response',
  stream: 7,
  trailers,
  status: 200,
  headers,
});
const body = (text: string, more = false): Frame => ({ type: 'http-response-body', stream: 7, more, body: Buffer.from(text) });

describe('HttpRelay', () => {
  it("sends an ASGI app's request at once and is 'sent', its head kept, until a frame comes back", async () => {
    const { server, frames, relay, ended } = await setup();
    const answer = send(server.port, { path: '/items?q=1' });
    const r = await relay;
    await settle();
    expect(frames).toMatchObject([{ type: 'http-request', stream: 7, more: false, method: 'GET', path: '/items', queryString: 'q=1' }]);
    expect(r.phase).toMatchObject({ kind: 'sent', request: { stream: 7, path: '/items' } });
    r.onFrame(response(['content-type', 'text/plain']));
    expect(r.phase).toMatchObject({ kind: 'started', head: { status: 200 } });
    r.onFrame(body('hello'));
    const res = await answer;
    expect([res.status, res.headers['content-length'], res.body.toString()]).toEqual([200, '5', 'hello']);
    expect(r.phase.kind).toBe('closed');
    expect(ended()).toBe(1);
    // The runner ended the stream itself: nothing to tell it.
    expect(frames.map((frame) => frame.type)).toEqual(['http-request']);
  });

  it("receives a WSGI app's body whole first, tells it the length, and keeps it until the app has the request", async () => {
    const { server, frames, relay } = await setup({ interface: 'wsgi' });
    const answer = send(server.port, { method: 'POST', body: ['hel', 'lo'], headers: { 'transfer-encoding': 'chunked' } });
    const r = await relay;
    while (frames.length < 3) await settle();
    const [head] = frames;
    expect(head).toMatchObject({ type: 'http-request', more: true });
    expect(head?.type === 'http-request' && head.headers.join(' ')).toContain('content-length 5');
    expect(frames.slice(1)).toMatchObject([
      { type: 'http-body', more: true, body: Buffer.from('hello') },
      { type: 'http-body', more: false },
    ]);
    // All sent, and the app has not answered: the request is still the relay's to give elsewhere.
    expect(r.phase).toMatchObject({ kind: 'sent', body: { size: 5 } });
    r.onFrame(response());
    expect(r.phase.kind).toBe('started');
    r.onFrame(body('ok'));
    expect((await answer).body.toString()).toBe('ok');
  });

  it("without request buffering, streams a WSGI app's body that declares its length, and still receives a chunked one whole", async () => {
    const sized = await setup({ interface: 'wsgi', streamWsgiUploads: true });
    const client = connect(sized.server.port, '127.0.0.1');
    client.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello');
    const r = await sized.relay;
    while (sized.frames.length < 2) await settle();
    // Half the body came: the app has the request and that half already.
    expect(sized.frames).toMatchObject([
      { type: 'http-request', more: true },
      { type: 'http-body', more: true, body: Buffer.from('hello') },
    ]);
    expect(r.phase).toMatchObject({ kind: 'sent', body: expect.any(RequestStream) as unknown });
    client.destroy();

    const chunked = await setup({ interface: 'wsgi', streamWsgiUploads: true });
    const answer = send(chunked.server.port, { method: 'POST', body: ['hel', 'lo'], headers: { 'transfer-encoding': 'chunked' } });
    const whole = await chunked.relay;
    while (chunked.frames.length < 3) await settle();
    const [head] = chunked.frames;
    expect(head?.type === 'http-request' && head.headers.join(' ')).toContain('content-length 5');
    whole.onFrame(response());
    whole.onFrame(body('ok'));
    expect((await answer).body.toString()).toBe('ok');
  });

  it('sends a body within the runner credit, and takes a credit as the sign the app has the request', async () => {
    const { server, frames, relay } = await setup({ window: 4 });
    const answer = send(server.port, { method: 'POST', body: 'hello' });
    const r = await relay;
    while (frames.length < 2) await settle();
    expect(frames.slice(1)).toMatchObject([{ type: 'http-body', more: true, body: Buffer.from('hell') }]);
    r.onFrame({ type: 'credit', stream: 7, bytes: 4 });
    expect(r.phase.kind).toBe('started');
    while (frames.length < 4) await settle();
    expect(frames.slice(2)).toMatchObject([
      { type: 'http-body', more: true, body: Buffer.from('o') },
      { type: 'http-body', more: false },
    ]);
    r.onFrame(response());
    r.onFrame(body('ok'));
    expect((await answer).body.toString()).toBe('ok');
  });

  it('relays a streamed response with its trailers, crediting the runner as the client takes it', async () => {
    // A quarter of the window is 1 byte: every byte taken is credited at once.
    const { server, frames, relay } = await setup({ window: 4 });
    const credited = () => frames.flatMap((frame) => (frame.type === 'credit' ? [frame.bytes] : [])).reduce((sum, bytes) => sum + bytes, 0);
    const res = await rawRequest(server.port, { te: 'trailers' }, async (r) => {
      r.onFrame(response(['trailer', 'x-sum'], true));
      r.onFrame(body('one ', true));
      r.onFrame(body('two', true));
      expect(r.phase.kind).toBe('responding');
      while (credited() < 7) await settle();
      r.onFrame({ type: 'http-trailers', stream: 7, headers: ['x-sum', '9'] });
      expect(r.phase.kind).toBe('ending');
    }, relay);
    expect([res.body, res.trailers['x-sum'], res.headers.trailer]).toEqual(['one two', '9', 'x-sum']);
    expect(credited()).toBe(7);
  });

  it('ends a response whose first part reaches its Content-Length at once, the stream kept until the runner ends it', async () => {
    const { server, frames, relay, ends } = await setup();
    const answer = send(server.port);
    const r = await relay;
    r.onFrame(response(['content-length', '5']));
    // A WSGI iterator's part: the runner learns the body is over only at the iterator's end.
    r.onFrame(body('hello', true));
    const res = await answer;
    expect([res.status, res.body.toString(), res.headers['content-length']]).toEqual([200, 'hello', '5']);
    expect(r.phase.kind).toBe('finishing');
    expect(ends).toEqual([]);
    r.onFrame(body(''));
    expect(r.phase.kind).toBe('closed');
    expect(ends).toEqual([false]);
    expect(frames.map((frame) => frame.type)).toEqual(['http-request']);
  });

  it('lends the client socket once the head is out, counts what the runner wrote to it, and ends the response with its last frame', async () => {
    const lent: Socket[] = [];
    const { server, frames, relay, ends } = await setup({ lender: { lend: (socket) => lent.push(socket) > 0 } });
    const answer = send(server.port);
    const r = await relay;
    await settle();
    expect(frames).toMatchObject([{ type: 'http-request', lendable: true }]);
    r.onFrame(response(['content-length', '11']));
    r.onFrame({ type: 'http-borrow', stream: 7 });
    await settle();
    expect(lent).toHaveLength(1);
    // The runner's part: bytes straight to the socket, then the socket back, then the end.
    lent[0]?.write('hello world');
    r.onFrame({ type: 'http-returned', stream: 7, bytes: 11 });
    r.onFrame(body(''));
    const res = await answer;
    expect([res.status, res.body.toString(), res.complete]).toEqual([200, 'hello world', true]);
    expect(ends).toEqual([false]);
    expect(frames.map((frame) => frame.type)).toEqual(['http-request']);
  });

  it("lets the runner receive a large WSGI body from the client's socket, and sends the request with HELD once it holds it whole", async () => {
    const lent: Socket[] = [];
    const { server, frames, relay } = await setup({ interface: 'wsgi', memoryBytes: 8 * MiB, lender: { lend: (socket) => lent.push(socket) > 0 } });
    const upload = Buffer.alloc(2 * MiB, 0x61);
    const answer = send(server.port, { method: 'POST', body: upload });
    const r = await relay;
    while (frames.length < 1) await settle();
    const [receive] = frames;
    if (receive?.type !== 'http-receive') throw new Error(`expected HTTP_RECEIVE, got ${String(receive?.type)}`);
    expect(receive.length).toBe(2 * MiB);
    r.onFrame({ type: 'http-borrow', stream: 7 });
    await settle();
    expect(lent).toHaveLength(1);
    // The runner's part: the rest of the body, read from the socket node no longer reads.
    const start = Buffer.from(receive.body);
    const rest = await readDescriptor(lent[0], 2 * MiB - start.length);
    expect(Buffer.concat([start, rest]).equals(upload)).toBe(true);
    r.onFrame({ type: 'http-received', stream: 7, more: true, bytes: 1000 });
    expect(r.phase.kind).toBe('receiving');
    r.onFrame({ type: 'http-received', stream: 7, more: false, bytes: rest.length - 1000 });
    while (frames.length < 2) await settle();
    const [, head] = frames;
    expect(head).toMatchObject({ type: 'http-request', held: true, more: false });
    expect(head?.type === 'http-request' && head.headers.join(' ')).toContain(`content-length ${String(2 * MiB)}`);
    r.onFrame(response(['content-length', '2']));
    r.onFrame(body('ok'));
    const res = await answer;
    expect([res.status, res.body.toString()]).toEqual([200, 'ok']);
  });

  it('receives the body itself, with the bytes it had, when the runner cannot', async () => {
    const { server, frames, relay } = await setup({ interface: 'wsgi', memoryBytes: 8 * MiB, lender: { lend: () => true } });
    const upload = Buffer.from(Array.from({ length: 2 * MiB }, (_, i) => i % 251));
    const answer = send(server.port, { method: 'POST', body: upload });
    const r = await relay;
    while (frames.length < 1) await settle();
    expect(frames).toMatchObject([{ type: 'http-receive' }]);
    r.onFrame({ type: 'http-received', stream: 7, more: false, bytes: 0 });
    while (frames.length < 2) await settle();
    // Past the window: in the spool file, every byte in its place.
    const [, head] = frames;
    expect(head).toMatchObject({ type: 'http-request', held: false });
    const path = head?.type === 'http-request' ? head.bodyFile?.toString() : undefined;
    expect(readFileSync(path ?? '').equals(upload)).toBe(true);
    r.onFrame(response(['content-length', '2']));
    r.onFrame(body('ok'));
    expect((await answer).body.toString()).toBe('ok');
  });

  it('keeps the socket when the response has no Content-Length, or the lender cannot send it', async () => {
    for (const [headers, lends] of [[[], true], [['content-length', '5'], false]] as const) {
      const { server, frames, relay } = await setup({ lender: { lend: () => lends } });
      const answer = send(server.port);
      const r = await relay;
      r.onFrame(response([...headers]));
      r.onFrame({ type: 'http-borrow', stream: 7 });
      await settle();
      expect(frames.map((frame) => frame.type)).toEqual(['http-request', 'http-not-lent']);
      r.onFrame(body('hello'));
      expect((await answer).body.toString()).toBe('hello');
    }
  });

  it('cuts a response whose lent bytes break its Content-Length', async () => {
    const { server, relay } = await setup({ lender: { lend: () => true } });
    const answer = send(server.port);
    const r = await relay;
    r.onFrame(response(['content-length', '4']));
    r.onFrame({ type: 'http-borrow', stream: 7 });
    await settle();
    r.onFrame({ type: 'http-returned', stream: 7, bytes: 5 });
    expect((await answer).complete).toBe(false);
  });

  it('drops and logs bytes past a Content-Length already reached, and stops the app', async () => {
    const { server, frames, entries, relay, ends } = await setup();
    const answer = send(server.port);
    const r = await relay;
    r.onFrame(response(['content-length', '5']));
    r.onFrame(body('hello', true));
    expect((await answer).body.toString()).toBe('hello');
    r.onFrame(body(' and more', true));
    expect(entries.map((entry) => entry.msg)).toContain('the Python app sent a response node cannot send');
    expect(frames.at(-1)).toEqual({ type: 'http-disconnect', stream: 7 });
    expect(ends).toEqual([true]);
  });

  it('sends the trailers a pathsend announced once the file is out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bicorn-relay-'));
    const file = join(dir, 'page.txt');
    writeFileSync(file, 'from the file');
    try {
      const { server, relay } = await setup();
      const res = await rawRequest(server.port, { te: 'trailers' }, (r) => {
        r.onFrame(response([], true));
        r.onFrame({ type: 'http-pathsend', stream: 7, path: Buffer.from(file) });
        r.onFrame({ type: 'http-trailers', stream: 7, headers: ['x-sum', '1'] });
      }, relay);
      expect([res.body, res.trailers['x-sum']]).toEqual(['from the file', '1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 500 for an app that fails before its head went out, with its traceback in the log', async () => {
    const { server, entries, relay } = await setup();
    const answer = send(server.port);
    (await relay).onFrame({ type: 'http-error', stream: 7, message: 'Traceback…\nKeyError\n' });
    expect((await answer).status).toBe(500);
    expect(entries.map((entry) => [entry.msg, (entry.data as { traceback?: unknown }).traceback])).toContainEqual(['exception in Python app', 'Traceback…\nKeyError\n']);
  });

  it('tells the runner when the client leaves mid-response', async () => {
    const { server, frames, relay, ends } = await setup();
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path: '/' });
    req.on('error', () => undefined);
    req.end();
    const r = await relay;
    r.onFrame(response());
    r.onFrame(body('part', true));
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.destroy();
    await r.close();
    expect(frames.at(-1)).toEqual({ type: 'http-disconnect', stream: 7 });
    expect(r.phase.kind).toBe('closed');
    // The app may still run it: its slot is held until the runner lets go (HTTP_CLOSED).
    expect(ends).toEqual([true]);
  });

  it('answers 502 when destroyed before the response started, and cuts the connection once it has', async () => {
    const before = await setup();
    const answer = send(before.server.port);
    const r = await before.relay;
    await settle();
    await r.destroy(new Error('the Python process died'));
    expect((await answer).status).toBe(502);
    expect(r.phase.kind).toBe('closed');

    const after = await setup();
    const cut = send(after.server.port);
    const started = await after.relay;
    started.onFrame(response());
    started.onFrame(body('part', true));
    await settle();
    await started.destroy(new Error('the Python process died'));
    const res: ClientResponse = await cut;
    expect([res.status, res.complete]).toEqual([200, false]);
  });

  it('closes gracefully: close() resolves once the response is out, the same promise every call', async () => {
    const { server, relay } = await setup();
    const answer = send(server.port);
    const r = await relay;
    const closed = r.close();
    expect(r.close()).toBe(closed);
    r.onFrame(response());
    r.onFrame(body('done'));
    await closed;
    expect((await answer).body.toString()).toBe('done');
  });

  it('run() sends a request without a body within the call when the gate admits it at once, and answers 500 when relaying it fails', async () => {
    const sent = await setup({ run: true, admit: () => true });
    const answer = send(sent.server.port, { path: '/now' });
    const r = await sent.relay;
    expect([sent.sentAtReturn(), r.phase.kind]).toEqual([1, 'sent']);
    r.onFrame(response());
    r.onFrame(body('ok'));
    expect((await answer).body.toString()).toBe('ok');

    const failing = await setup({
      run: true,
      admit: () => true,
      send: () => {
        throw new Error('the runner socket is gone');
      },
    });
    const failed = await send(failing.server.port, { path: '/fails' });
    expect(failed.status).toBe(500);
    expect(failing.entries.some((entry) => entry.msg === 'failed to relay a request to the Python process')).toBe(true);
  });

  it('sends nothing to the runner until the app can start the request, and answers 503 with Retry-After when it cannot in time', async () => {
    const admission = deferred<boolean>();
    const { server, frames, relay, refused } = await setup({ admit: () => admission.promise });
    const answer = send(server.port, { path: '/waits' });
    const r = await relay;
    await settle();
    expect([r.phase.kind, frames]).toEqual(['receiving', []]);
    admission.resolve(false);
    const res = await answer;
    expect([res.status, res.headers['retry-after'], res.headers.connection]).toEqual([503, '1', 'close']);
    expect([frames, refused]).toEqual([[], ['queue-timeout']]);
  });

  it("refuses a WSGI upload that fits neither upload_memory nor the spool budget with 503, at once when its Content-Length says so, and counts it", async () => {
    const { server, frames, refused } = await setup({ interface: 'wsgi', spoolBytes: 1024, memoryBytes: 1024 });
    const res = await send(server.port, { method: 'POST', headers: { 'content-length': String(2 << 20) }, body: Buffer.alloc(2 << 20) });
    expect([res.status, res.headers['retry-after']]).toEqual([503, '1']);
    expect([frames, refused]).toEqual([[], ['spool-budget']]);
  });

  it('hands a WSGI upload on disk to the runner as its file, which stays until the runner lets go of the stream', async () => {
    // upload_memory 0: every body goes to disk.
    const done = await setup({ interface: 'wsgi', memoryBytes: 0 });
    const answer = send(done.server.port, { method: 'POST', body: ['hello ', 'world'], headers: { 'transfer-encoding': 'chunked' } });
    const r = await done.relay;
    while (done.frames.length < 1) await settle();
    const [head] = done.frames;
    // One frame, without MORE: the runner opens the file by its path and reads the body from it.
    expect(done.frames).toHaveLength(1);
    expect(head).toMatchObject({ type: 'http-request', more: false });
    const path = head?.type === 'http-request' ? head.bodyFile?.toString() : undefined;
    expect(path).toMatch(/^\/proc\/\d+\/fd\/\d+$/);
    expect(readFileSync(path ?? '', 'utf8')).toBe('hello world');
    const kept = r.phase.kind === 'sent' ? r.phase.body : undefined;
    expect(kept).toBeInstanceOf(RequestBody);
    // A frame back: the runner has opened it, but may still read it.
    r.onFrame(response());
    expect(kept).toMatchObject({ size: 11 });
    r.onFrame(body('ok'));
    expect((await answer).body.toString()).toBe('ok');
    await settle();
    // The runner let go of the stream: the worker's file goes.
    expect([done.ends, done.heldFiles, kept]).toMatchObject([[false], [undefined], { size: 0 }]);

    // The client leaves before the runner answered: the runner may not have opened the file yet,
    // so it is the host's to destroy once the runner lets go (HTTP_CLOSED).
    const left = await setup({ interface: 'wsgi', memoryBytes: 0 });
    const client = connect(left.server.port, '127.0.0.1');
    client.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    const leaving = await left.relay;
    while (left.frames.length < 1) await settle();
    client.destroy();
    await leaving.close();
    expect(left.frames.map((frame) => frame.type)).toEqual(['http-request', 'http-disconnect']);
    expect(left.ends).toEqual([true]);
    expect(left.heldFiles[0]).toMatchObject({ size: 5 });
    await left.heldFiles[0]?.destroy();
  });

  it('frees the stream at once when the runner sent its last frame, also when that frame fails', async () => {
    const { server, relay, ends } = await setup();
    const answer = send(server.port, { path: '/' });
    const r = await relay;
    r.onFrame(response(['content-length', '2']));
    r.onFrame(body('too long'));
    // Nothing of it went out: a 500 instead.
    expect((await answer).status).toBe(500);
    expect(ends).toEqual([false]);
  });
});

interface RawResponse {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
  readonly trailers: IncomingMessage['trailers'];
}

/** A request with the given headers; `play` runs the runner's side once the relay has it. */
async function rawRequest(port: number, headers: Record<string, string>, play: (relay: HttpRelay) => void | Promise<void>, relay: Promise<HttpRelay>): Promise<RawResponse> {
  const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers });
  req.end();
  const response = once(req, 'response');
  await play(await relay);
  const [res] = (await response) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { body: Buffer.concat(chunks).toString(), headers: res.headers, trailers: res.trailers };
}

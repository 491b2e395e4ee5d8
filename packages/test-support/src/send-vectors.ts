// The vectors of protocol's send/SPEC.md for the TypeScript suites: what a JS app sends for
// one, a client that plays a vector's request, and the check of what the client got (and what
// the server logged) against the vector's `expect`. Runs in the vitest process.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { LogEntry } from './index.js';

type Pair = [string, string];

export interface HttpExpect {
  readonly status: number;
  readonly headers?: Pair[];
  readonly noContentLength?: boolean;
  readonly body?: string;
  readonly trailers?: Pair[];
  readonly hints?: string[][];
  readonly complete?: boolean;
  readonly close?: Readonly<Record<string, boolean>>;
  readonly dropped?: string[];
  readonly error?: string;
}

export interface HttpVector {
  readonly name: string;
  readonly side: 'app' | 'worker';
  readonly request?: { readonly method?: string; readonly httpVersion?: string; readonly headers?: Pair[] };
  readonly skip?: Readonly<Record<string, string>>;
  readonly response?: { readonly status: number; readonly headers: Pair[]; readonly body?: string[] };
  readonly events?: unknown[];
  readonly wsgi?: unknown;
  readonly expect: HttpExpect;
}

export type Message = { readonly text: string } | { readonly bytes: string };

export interface WebSocketExpect {
  readonly status: number;
  readonly subprotocol?: string | null;
  readonly headers?: Pair[];
  readonly body?: string;
  readonly complete?: boolean;
  readonly messages?: Message[];
  readonly closed?: { readonly code: number; readonly reason: string };
  readonly dropped?: string[];
  readonly error?: string;
}

export interface WebSocketVector {
  readonly name: string;
  readonly side: 'app' | 'worker';
  readonly request?: { readonly subprotocols?: string[] };
  readonly events: unknown[];
  readonly expect: WebSocketExpect;
}

export interface SendVectors {
  readonly file: string;
  readonly http: HttpVector[];
  readonly websocket: WebSocketVector[];
}

export const SEND_VECTORS_PATH = new URL('../../protocol/send/send-vectors.json', import.meta.url);
export const sendVectors = JSON.parse(readFileSync(SEND_VECTORS_PATH, 'utf8')) as SendVectors;

// Fields of an ASGI event whose values are byte strings.
const BYTE_FIELDS = new Set(['headers', 'body', 'links', 'bytes']);

/**
 * What a JavaScript ASGI app sends for a vector: its events, or a start and body events for a
 * `response`; undefined for a WSGI-only vector. `file` is the path `$FILE` stands for.
 */
export function asgiEvents(vector: HttpVector | WebSocketVector, file: string): unknown[] | undefined {
  const response = 'response' in vector ? vector.response : undefined;
  if (response !== undefined) {
    const { status, headers, body = [] } = response;
    const chunks = body.length === 0 ? [''] : body;
    const events: unknown[] = [{ type: 'http.response.start', status, headers: convert(headers, true, file) }];
    chunks.forEach((chunk, index) => events.push({ type: 'http.response.body', body: Buffer.from(chunk, 'latin1'), more_body: index < chunks.length - 1 }));
    return events;
  }
  return vector.events?.map((event) => convert(event, false, file));
}

/** A vector's value as JS: byte fields as Buffers (their strings are latin-1), `$text`, `$bytes` and `$FILE` resolved. */
function convert(value: unknown, bytes: boolean, file: string): unknown {
  if (typeof value === 'string') {
    if (bytes) return Buffer.from(value, 'latin1');
    return value === '$FILE' ? file : value;
  }
  if (Array.isArray(value)) return value.map((item) => convert(item, bytes, file));
  if (typeof value === 'object' && value !== null) {
    if ('$text' in value) return (value as { $text: string }).$text;
    if ('$bytes' in value) return Buffer.from((value as { $bytes: string }).$bytes, 'latin1');
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, convert(item, bytes || BYTE_FIELDS.has(key), file)]));
  }
  return value;
}

/** A JS ASGI app that plays the events and returns, or rethrows what send() threw. */
export function asgiApp(events: readonly unknown[]): (scope: unknown, receive: () => Promise<unknown>, send: (event: unknown) => Promise<void>) => Promise<void> {
  return async (_scope, receive, send) => {
    await receive();
    for (const event of events) await send(event);
  };
}

/** The fetch Response for a `response` vector. */
export function fetchResponse(vector: HttpVector): Response {
  const { status, headers, body = [] } = vector.response ?? { status: 0, headers: [] };
  const bytes = Buffer.from(body.join(''), 'latin1');
  return new Response(bytes.length === 0 ? null : bytes, { status, headers: headers.map(([name, value]) => [name, value]) });
}

export interface HttpObserved {
  readonly status: number;
  readonly headers: Pair[];
  readonly body: string;
  readonly trailers: Pair[];
  readonly hints: string[];
  readonly complete: boolean;
  /** The server closed the connection after the response. */
  readonly closed: boolean;
}

/** Sends the vector's request to `path`; HTTP/1.0 over a raw socket (node's client speaks 1.1 only). */
export function playHttp(port: number, path: string, vector: HttpVector): Promise<HttpObserved> {
  const { method = 'GET', httpVersion = '1.1', headers = [] } = vector.request ?? {};
  return httpVersion === '1.0' ? playHttp10(port, path, method, headers) : playHttp11(port, path, method, headers);
}

async function playHttp11(port: number, path: string, method: string, headers: Pair[]): Promise<HttpObserved> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers: Object.fromEntries(headers) });
    const hints: string[] = [];
    req.on('information', (info: { statusCode: number; headers: Record<string, string | undefined> }) => {
      if (info.statusCode === 103) hints.push(info.headers.link ?? '');
    });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const socketClosed = new Promise((resolve) => res.socket.once('close', resolve));
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', () => undefined);
    await new Promise((resolve) => res.once('close', resolve));
    const closed = res.headers.connection?.toLowerCase() === 'close';
    // The server closes after a response it sent `Connection: close` with: wait for it.
    if (closed) await socketClosed;
    return {
      status: res.statusCode ?? 0,
      headers: pairs(res.rawHeaders),
      body: Buffer.concat(chunks).toString('latin1'),
      trailers: pairs(res.rawTrailers),
      hints,
      complete: res.complete,
      closed,
    };
  } finally {
    agent.destroy();
  }
}

async function playHttp10(port: number, path: string, method: string, headers: Pair[]): Promise<HttpObserved> {
  const socket = connect(port, '127.0.0.1');
  const lines = [`${method} ${path} HTTP/1.0`, 'Host: 127.0.0.1', ...headers.map(([name, value]) => `${name}: ${value}`), '', ''];
  // Not end(): a client that half-closes may get no answer.
  socket.write(lines.join('\r\n'));
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  let rest = Buffer.concat(chunks).toString('latin1');
  const hints: string[] = [];
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const [statusLine = '', ...fields] = rest.slice(0, end).split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const parsed: Pair[] = fields.map((field) => {
      const colon = field.indexOf(':');
      return [field.slice(0, colon).toLowerCase(), field.slice(colon + 1).trim()];
    });
    rest = rest.slice(end + 4);
    if (status >= 100 && status < 200) {
      hints.push(parsed.find(([name]) => name === 'link')?.[1] ?? '');
      continue;
    }
    const length = parsed.find(([name]) => name === 'content-length')?.[1];
    const body = length === undefined ? rest : rest.slice(0, Number(length));
    return { status, headers: parsed, body, trailers: [], hints, complete: length === undefined || body.length === Number(length), closed: true };
  }
}

function pairs(raw: readonly string[]): Pair[] {
  const result: Pair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push([(raw[i] ?? '').toLowerCase(), raw[i + 1] ?? '']);
  return result;
}

// Headers the server sets itself, whatever the app: not part of what a vector pins.
const SERVER_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
const HANDSHAKE_HEADERS = new Set(['connection', 'upgrade', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions']);

/** The app's headers the client got: without the server's own, and without a Content-Length the vector does not list. */
function appHeaders(headers: readonly Pair[], expected: readonly Pair[], serverHeaders: ReadonlySet<string>): Pair[] {
  const pinsLength = expected.some(([name]) => name === 'content-length');
  return headers.filter(([name]) => !serverHeaders.has(name) && (pinsLength || name !== 'content-length'));
}

export async function checkHttp(observed: HttpObserved, vector: HttpVector, entries: readonly LogEntry[]): Promise<void> {
  const wanted = vector.expect;
  expect(observed.status, 'status').toBe(wanted.status);
  expect(observed.complete, 'whether the response was whole').toBe(wanted.complete ?? true);
  if (wanted.headers !== undefined) expect(appHeaders(observed.headers, wanted.headers, SERVER_HEADERS), 'headers').toEqual(wanted.headers);
  if (wanted.noContentLength === true) expect(observed.headers.map(([name]) => name), 'headers').not.toContain('content-length');
  if (wanted.body !== undefined) expect(observed.body, 'body').toBe(wanted.body);
  if (wanted.trailers !== undefined) expect(observed.trailers, 'trailers').toEqual(wanted.trailers);
  if (wanted.hints !== undefined) expect(observed.hints, '103 responses').toEqual(wanted.hints.map((links) => links.join(', ')));
  if (wanted.close !== undefined) expect(observed.closed, 'whether the connection closed after the response').toBe(wanted.close['HTTP/1.1']);
  await checkLog(entries, wanted);
}

export interface WebSocketObserved {
  readonly status: number;
  readonly subprotocol: string | null;
  readonly headers: Pair[];
  readonly body: string;
  readonly complete: boolean;
  readonly messages: Message[];
  readonly closed: { readonly code: number; readonly reason: string } | undefined;
}

/** Opens a WebSocket to `url` as the vector's client, and resolves once the server has answered and closed. */
export function playWebSocket(url: string, vector: WebSocketVector): Promise<WebSocketObserved> {
  const ws = new WebSocket(url, vector.request?.subprotocols ?? []);
  let status = 0;
  let headers: Pair[] = [];
  const messages: Message[] = [];
  return new Promise((resolve) => {
    ws.on('upgrade', (res: IncomingMessage) => {
      status = res.statusCode ?? 0;
      headers = pairs(res.rawHeaders);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      messages.push(isBinary ? { bytes: data.toString('latin1') } : { text: data.toString('utf8') });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      resolve({ status, subprotocol: ws.protocol === '' ? null : ws.protocol, headers, body: '', complete: true, messages, closed: { code, reason: reason.toString() } });
    });
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => undefined);
      res.once('close', () => {
        resolve({ status: res.statusCode ?? 0, subprotocol: null, headers: pairs(res.rawHeaders), body: Buffer.concat(chunks).toString('latin1'), complete: res.complete, messages, closed: undefined });
      });
    });
    ws.on('error', () => undefined);
  });
}

export async function checkWebSocket(observed: WebSocketObserved, vector: WebSocketVector, entries: readonly LogEntry[]): Promise<void> {
  const wanted = vector.expect;
  expect(observed.status, 'status').toBe(wanted.status);
  const accepted = wanted.status === 101;
  if (wanted.headers !== undefined) expect(appHeaders(observed.headers, wanted.headers, accepted ? HANDSHAKE_HEADERS : SERVER_HEADERS), 'headers').toEqual(wanted.headers);
  if (wanted.subprotocol !== undefined) expect(observed.subprotocol, 'subprotocol').toBe(wanted.subprotocol);
  if (wanted.messages !== undefined) expect(observed.messages, 'messages').toEqual(wanted.messages);
  if (wanted.closed !== undefined) expect(observed.closed, 'close').toEqual(wanted.closed);
  if (wanted.body !== undefined) expect(observed.body, 'body').toBe(wanted.body);
  expect(observed.complete, 'whether the response was whole').toBe(wanted.complete ?? true);
  await checkLog(entries, wanted);
}

/** Waits for the error and the dropped headers the vector expects to be logged (the client may have its answer first). */
async function checkLog(entries: readonly LogEntry[], wanted: { readonly error?: string | undefined; readonly dropped?: string[] | undefined }): Promise<void> {
  const { error, dropped } = wanted;
  if (error !== undefined) await until(() => entries.some((entry) => logText(entry).includes(error)), `an error log line with "${error}"`, entries);
  if (dropped !== undefined) {
    await until(
      () => entries.some((entry) => entry.msg === 'hop-by-hop headers from the app dropped' && JSON.stringify((entry.data as { dropped?: unknown }).dropped) === JSON.stringify(dropped)),
      `a debug line dropping ${dropped.join(', ')}`,
      entries,
    );
  }
}

function logText(entry: LogEntry): string {
  const data = entry.data as { err?: unknown; rule?: unknown; traceback?: unknown };
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  return [entry.msg, data.err instanceof Error ? data.err.message : '', text(data.rule), text(data.traceback)].join('\n');
}

async function until(condition: () => boolean, what: string, entries: readonly LogEntry[]): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5000) throw new Error(`no ${what} within 5 s; logged: ${JSON.stringify(entries.map((entry) => [entry.msg, logText(entry)]))}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

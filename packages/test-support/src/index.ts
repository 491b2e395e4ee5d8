// Helpers for the integration tests of packages that serve HTTP in-process: a node:http server
// on port 0, a raw client, a recording logger and a deferred. Runs in the vitest process.
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startServer(listener: RequestListener): Promise<TestServer> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface LogEntry {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly data: object;
  readonly msg: string;
}

/** Shaped like pino's logger as far as the gateway and hosts use it. */
export interface RecordingLog {
  error(data: object, msg: string): void;
  warn(data: object, msg: string): void;
  info(data: object, msg: string): void;
  debug(data: object, msg: string): void;
}

export function recordingLog(): { readonly log: RecordingLog; readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    log: {
      error: (data, msg) => entries.push({ level: 'error', data, msg }),
      warn: (data, msg) => entries.push({ level: 'warn', data, msg }),
      info: (data, msg) => entries.push({ level: 'info', data, msg }),
      debug: (data, msg) => entries.push({ level: 'debug', data, msg }),
    },
  };
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface ClientResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** False when the server cut the connection before the response was whole. */
  readonly complete: boolean;
}

export interface ClientRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  /** One body, or several chunks written separately so that the server sees a streamed body. */
  readonly body?: string | Buffer | readonly string[];
}

export async function send(port: number, options: ClientRequest = {}): Promise<ClientResponse> {
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    agent: false,
    method: options.method ?? 'GET',
    path: options.path ?? '/',
    headers: options.headers,
  });
  const { body } = options;
  if (Array.isArray(body)) for (const chunk of body as readonly string[]) req.write(chunk);
  req.end(Array.isArray(body) ? undefined : body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  // An aborted response emits 'error' as well as 'close' (which events.once would turn into a
  // rejection); 'close' is what settles it here, and `complete` tells the two apart.
  res.on('error', () => undefined);
  await new Promise((resolve) => res.once('close', resolve));
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    rawHeaders: res.rawHeaders,
    body: Buffer.concat(chunks),
    complete: res.complete,
  };
}

// Test helpers for the app hosts: a node:http server on port 0 around a listener, a raw client
// and a recording logger. Runs in the vitest process.
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { GatewayLog } from '@bicorn/gateway';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

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
  readonly level: 'error' | 'warn' | 'debug';
  readonly data: object;
  readonly msg: string;
}

export function recordingLog(): { readonly log: GatewayLog; readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    log: {
      error: (data, msg) => entries.push({ level: 'error', data, msg }),
      warn: (data, msg) => entries.push({ level: 'warn', data, msg }),
      debug: (data, msg) => entries.push({ level: 'debug', data, msg }),
    },
  };
}

export interface ClientResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly complete: boolean;
}

export interface ClientRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  /** Written as separate chunks, so the server sees a streamed body. */
  readonly chunks?: readonly string[];
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
  for (const chunk of options.chunks ?? []) req.write(chunk);
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const body: Buffer[] = [];
  res.on('data', (chunk: Buffer) => body.push(chunk));
  // An aborted response emits 'error' as well as 'close'; `complete` tells the two apart.
  res.on('error', () => undefined);
  await new Promise((resolve) => res.once('close', resolve));
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(body), complete: res.complete };
}

// The vectors of protocol's send/SPEC.md through a real runner and the Python host, as the
// client sees them: each vector's app (the runner's tests/send_vectors.py) served by a WSGI and
// an ASGI runner process behind the host, over a real socket.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { WebSocketGateway } from '@bicorn/gateway';
import type { LogEntry } from '@bicorn/test-support';
import { checkHttp, checkWebSocket, playHttp, playWebSocket, sendVectors } from '@bicorn/test-support/send-vectors';
import { PythonHost, Spool, type HostLog } from '../src/index.js';
import { hasPython, startRunner } from './runner-start.js';

/**
 * A log that files each entry under the request path it names, so each vector checks its own;
 * an entry without one (an app's error after its response was over, when the host no longer
 * knows the request) goes to every path seen, the vectors being played one at a time.
 */
function logByPath(): { log: HostLog; entries: (path: string) => LogEntry[] } {
  const byPath = new Map<string, LogEntry[]>();
  const entries = (path: string): LogEntry[] => {
    let list = byPath.get(path);
    if (list === undefined) byPath.set(path, (list = []));
    return list;
  };
  const record = (level: LogEntry['level']) => (data: object, msg: string) => {
    const path = (data as { path?: unknown }).path;
    const lists = typeof path === 'string' ? [entries(path)] : [...byPath.values()];
    for (const list of lists) list.push({ level, data, msg });
  };
  return { log: { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') }, entries };
}

interface Served {
  readonly port: number;
  readonly entries: (path: string) => LogEntry[];
  close(): Promise<void>;
}

async function serve(app: string, iface: 'wsgi' | 'asgi'): Promise<Served> {
  const { log, entries } = logByPath();
  const runner = await startRunner(app, iface, log);
  const host = new PythonHost(runner, { window: 1 << 20, rootPath: '', threads: 1, sendAhead: 0, queueTimeoutMs: 0, spool: new Spool(tmpdir(), 1 << 30, 1 << 20), streamWsgiUploads: false, limitRejected: () => undefined, log });
  const gateway = new WebSocketGateway({ maxMessageSize: 1 << 20, pingIntervalMs: 0, pingTimeoutMs: 0, perMessageDeflate: false, receiveWindow: 1 << 20, sendWindow: 1 << 20, rootPath: '', log });
  const server: Server = createServer(host.listener);
  server.on('upgrade', (req, socket, head) => {
    gateway.handle(host.websocket, req, socket, head);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    entries,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      await runner.shutdown(10_000);
    },
  };
}

const http = sendVectors.http.map((vector, index) => ({ vector, index }));

describe.skipIf(!hasPython)(`the send vectors through the runner and the Python host${hasPython ? '' : ' (skipped: no python3 3.9 or newer on PATH)'}`, () => {
  describe('ASGI apps', () => {
    let served: Served;
    beforeAll(async () => {
      served = await serve('tests.send_vectors:asgi_app', 'asgi');
    });
    afterAll(() => served.close());

    const asgi = http.filter(({ vector }) => vector.wsgi === undefined);
    it.each(asgi.map(({ vector, index }) => [vector.name, vector, index] as const))('HTTP: %s', async (_name, vector, index) => {
      const path = `/http/${String(index)}`;
      const entries = served.entries(path);
      await checkHttp(await playHttp(served.port, path, vector), vector, entries);
    });

    it.each(sendVectors.websocket.map((vector, index) => [vector.name, vector, index] as const))('WebSocket: %s', async (_name, vector, index) => {
      const path = `/websocket/${String(index)}`;
      const entries = served.entries(path);
      await checkWebSocket(await playWebSocket(`ws://127.0.0.1:${String(served.port)}${path}`, vector), vector, entries);
    });
  });

  describe('WSGI apps', () => {
    let served: Served;
    beforeAll(async () => {
      served = await serve('tests.send_vectors:wsgi_app', 'wsgi');
    });
    afterAll(() => served.close());

    const wsgi = http.filter(({ vector }) => vector.response !== undefined || vector.wsgi !== undefined);
    it.each(wsgi.map(({ vector, index }) => [vector.name, vector, index] as const))('HTTP: %s', async (_name, vector, index) => {
      const path = `/http/${String(index)}`;
      const entries = served.entries(path);
      await checkHttp(await playHttp(served.port, path, vector), vector, entries);
    });
  });
});

// The vectors of protocol's send/SPEC.md against JavaScript ASGI apps: each vector's events
// sent through the gateway over a real socket, and what the client gets checked.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { recordingLog, type LogEntry } from '@bicorn/test-support';
import { asgiApp, asgiEvents, checkHttp, checkWebSocket, playHttp, playWebSocket, sendVectors } from '@bicorn/test-support/send-vectors';
import { serveAsgiHttp, WebSocketGateway, type AsgiCallable } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bicorn-send-vectors-'));
const file = join(dir, 'file.txt');
writeFileSync(file, sendVectors.file);

/** Each request's path names its vector; each vector logs on its own. */
const logs = new Map<string, LogEntry[]>();
function logFor(path: string) {
  const { log, entries } = recordingLog();
  logs.set(path, entries);
  return log;
}

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    const index = Number(req.url?.slice('/http/'.length));
    const events = asgiEvents(sendVectors.http[index] ?? sendVectors.http[0]!, file) ?? [];
    void serveAsgiHttp(asgiApp(events) as AsgiCallable, req, res, { rootPath: '', log: logFor(req.url ?? '') });
  });
  server.on('upgrade', (req, socket, head) => {
    const index = Number(req.url?.slice('/websocket/'.length));
    const events = asgiEvents(sendVectors.websocket[index] ?? sendVectors.websocket[0]!, file) ?? [];
    const gateway = new WebSocketGateway({
      maxMessageSize: 1 << 20,
      pingIntervalMs: 0,
      pingTimeoutMs: 0,
      perMessageDeflate: false,
      receiveWindow: 1 << 20,
      sendWindow: 1 << 20,
      rootPath: '',
      log: logFor(req.url ?? ''),
    });
    gateway.handle(asgiApp(events), req, socket, head);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
  rmSync(dir, { recursive: true, force: true });
});

describe('the send vectors against JavaScript ASGI apps', () => {
  const http = sendVectors.http.map((vector, index) => ({ vector, index })).filter(({ vector }) => vector.wsgi === undefined);
  it.each(http.map(({ vector, index }) => [vector.name, vector, index] as const))('HTTP: %s', async (_name, vector, index) => {
    const path = `/http/${String(index)}`;
    const observed = await playHttp(port, path, vector);
    await checkHttp(observed, vector, logs.get(path) ?? []);
  });

  it.each(sendVectors.websocket.map((vector, index) => [vector.name, vector, index] as const))('WebSocket: %s', async (_name, vector, index) => {
    const path = `/websocket/${String(index)}`;
    const observed = await playWebSocket(`ws://127.0.0.1:${String(port)}${path}`, vector);
    await checkWebSocket(observed, vector, logs.get(path) ?? []);
  });
});

// The vectors of protocol's send/SPEC.md that a fetch handler can send (the `response` ones)
// against the fetch host, over a real socket. A Response checks its own status and headers as
// it is made, with its own messages: for those rules the status the client gets is checked.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { recordingLog, startServer, type LogEntry, type TestServer } from '@bicorn/test-support';
import { checkHttp, fetchResponse, playHttp, sendVectors, type HttpVector } from '@bicorn/test-support/send-vectors';
import { createFetchListener } from '../src/fetch-host.js';

const vectors = sendVectors.http.filter((vector) => vector.response !== undefined && vector.skip?.fetch === undefined);
const logs = new Map<string, LogEntry[]>();
let server: TestServer;

beforeAll(async () => {
  server = await startServer((req, res) => {
    const vector = vectors[Number(req.url?.slice(1))];
    const { log, entries } = recordingLog();
    logs.set(req.url ?? '', entries);
    createFetchListener({ handler: () => (vector === undefined ? new Response(null, { status: 404 }) : fetchResponse(vector)), self: undefined }, log)(req, res);
  });
});

afterAll(async () => {
  await server.close();
});

const rank = (name: string): number => (name === 'set-cookie' ? 1 : 0);

describe('the send vectors against fetch handlers', () => {
  it.each(vectors.map((vector, index) => [vector.name, vector, index] as const))('%s', async (_name, vector, index) => {
    const path = `/${String(index)}`;
    // The Response constructor raises its own errors for the rules it checks, and Headers
    // iterates its names sorted, Set-Cookie last.
    const { error, headers, ...rest } = vector.expect;
    const sorted = headers === undefined ? {} : { headers: [...headers].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)) };
    const expected: HttpVector = { ...vector, expect: { ...rest, ...sorted, ...(error === undefined || vector.side === 'app' ? {} : { error }) } };
    await checkHttp(await playHttp(server.port, path, expected), expected, logs.get(path) ?? []);
  });
});

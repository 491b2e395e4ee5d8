import { afterEach, describe, expect, it } from 'vitest';
import { recordingLog, send, startServer, type TestServer } from '@bicorn/test-support';
import { writeFetchResponse } from './fetch-response.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Serves `make()`'s Response; resolves with what writeFetchResponse threw, if anything. */
async function serve(make: () => Response): Promise<{ port: number; errors: unknown[] }> {
  const errors: unknown[] = [];
  const server = await startServer((req, res) => {
    writeFetchResponse(make(), res, req.method === 'HEAD', recordingLog().log).catch((error: unknown) => {
      errors.push(error);
      res.writeHead(500, { 'content-length': 0 });
      res.end();
    });
  });
  servers.push(server);
  return { port: server.port, errors };
}

describe('writeFetchResponse', () => {
  it('refuses a Content-Length that is not a number of bytes before writing anything, HEAD included', async () => {
    const { port, errors } = await serve(() => new Response('abc', { headers: { 'content-length': 'abc' } }));
    expect((await send(port)).status).toBe(500);
    expect((await send(port, { method: 'HEAD' })).status).toBe(500);
    expect(errors.map((error) => (error as Error).message)).toEqual([
      'the Response\'s Content-Length must be one number of bytes, got "abc"',
      'the Response\'s Content-Length must be one number of bytes, got "abc"',
    ]);
  });

  it('refuses two Content-Length headers, which Headers joins into one value', async () => {
    const { port, errors } = await serve(() => new Response('abc', { headers: [['content-length', '3'], ['content-length', '3']] }));
    expect((await send(port)).status).toBe(500);
    expect((errors[0] as Error).message).toBe('the Response\'s Content-Length must be one number of bytes, got "3, 3"');
  });

  it('sends a body that keeps to its Content-Length', async () => {
    const { port, errors } = await serve(() => new Response('abc', { headers: { 'content-length': '3' } }));
    const res = await send(port);
    expect([res.status, res.headers['content-length'], res.body.toString()]).toEqual([200, '3', 'abc']);
    expect(errors).toEqual([]);
  });
});

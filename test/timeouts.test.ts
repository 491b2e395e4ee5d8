import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { rawExchange } from './support/front.js';
import { get } from './support/http.js';
import { hasPython, noPython, servePython } from './support/python.js';

describe('heartbeats', () => {
  it('kills a worker whose event loop is blocked (SIGABRT) and replaces it, while the other worker serves on', async () => {
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', '-t', '1', fixture('apps/hang.mjs')]);
    const url = await bicorn.listening();
    const blocked = get(`${url}/block`).catch((error: unknown) => error);
    await bicorn.waitForLog('a worker to block', (l) => l.msg === 'blocking the event loop');
    const missed = await bicorn.waitForLog('the missed heartbeats', (l) => l.msg.startsWith('worker stopped answering heartbeats'));
    expect(missed.level).toBe(50);
    const victim = missed.workerId;
    const died = await bicorn.waitForLog('the death', (l) => l.msg === 'worker died' && l.workerId === victim);
    expect(died).toMatchObject({ signal: 'SIGABRT', cause: 'killed: it missed its heartbeats for 1 s' });
    expect(await blocked).toBeInstanceOf(Error);
    await bicorn.waitForLog('the replacement', (l) => l.msg === 'worker ready' && typeof l.workerId === 'number' && l.workerId > 2);
    for (let i = 0; i < 6; i++) expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('the request timeout', () => {
  it('answers 504 for a JavaScript app that never answers, and keeps the worker', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--request-timeout', '0.5', fixture('apps/hang.mjs')]);
    const url = await bicorn.listening();
    const before = (await get(`${url}/`)).body;
    const answer = await get(`${url}/hang`);
    expect(answer).toMatchObject({ status: 504, body: 'Gateway Timeout\n' });
    expect(answer.headers.connection).toBe('close');
    await bicorn.waitForLog('the timeout', (l) => l.msg === 'request timed out; answering 504' && l.path === '/hang');
    expect((await get(`${url}/`)).body).toBe(before);
    expect(bicorn.lines.filter((l) => l.msg.startsWith('recycling'))).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('leaves a slow upload alone while its bytes keep coming', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--request-timeout', '0.3', fixture('apps/hang.mjs')]);
    const url = await bicorn.listening();
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${url}/echo`, { method: 'POST', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      // Ten pieces 0.1 s apart: a second in all, each gap well inside the timeout.
      let sent = 0;
      const next = (): void => {
        if (sent === 10) {
          req.end();
          return;
        }
        req.write(`piece ${String(sent++)};`);
        setTimeout(next, 100);
      };
      next();
    });
    expect(answer).toEqual({ status: 200, body: Array.from({ length: 10 }, (_, i) => `piece ${String(i)};`).join('') });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython).each([
    { of: 'a WSGI app, its body received whole first', app: 'big_wsgi:application' },
    { of: 'an ASGI app reading its body as it comes', app: 'big_asgi:app' },
  ])(`answers 504 to a client that stalls mid-upload, blaming not the app: $of${noPython}`, async ({ app }) => {
    const bicorn = servePython(app, ['-w', '1', '--request-timeout', '1']);
    const url = await bicorn.listening();
    const worker = bicorn.workerPid();
    const head = Buffer.from('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 524288\r\n\r\n');
    const answer = await rawExchange(url, Buffer.concat([head, Buffer.alloc(100_000, 0x78)]), { timeoutMs: 10_000 });
    expect([answer.status, answer.closed]).toEqual([504, true]);
    expect((await get(`${url}/upload`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.workerPids()).toEqual([worker]);
    expect(bicorn.lines.filter((l) => l.level >= 50 && l.msg !== 'request timed out; answering 504')).toEqual([]);
  });

  const stuck = [
    { name: 'a WSGI app that never returns', app: 'hang_wsgi:application', path: '/hang', frame: 'hang_forever' },
    { name: 'an ASGI app awaiting forever', app: 'hang_asgi:app', path: '/await', frame: 'await_forever' },
    { name: 'an ASGI app that blocks its event loop', app: 'hang_asgi:app', path: '/block', frame: 'block_the_loop' },
  ];
  it.skipIf(!hasPython).each(stuck)(`answers 504 for $name, logs where it is stuck and replaces its Python process${noPython}`, async ({ app, path, frame }) => {
    const bicorn = servePython(app, ['-w', '2', '--request-timeout', '1']);
    const url = await bicorn.listening();
    const answer = await get(`${url}${path}`);
    expect(answer.status).toBe(504);
    const stacks = await bicorn.waitForLog("the app's stacks", (l) => l.msg === "the Python app's stacks" && String(l.stacks).includes(frame));
    expect(stacks.level).toBe(50);
    const recycling = await bicorn.waitForLog('the recycling', (l) => l.msg === 'recycling worker: starting its replacement');
    expect(recycling.reason).toBe('request-timeout');
    await bicorn.waitForLog('the replacement', (l) => l.msg === 'worker ready' && l.workerId === 3);
    await bicorn.waitForLog('the stuck worker to stop', (l) => l.msg === 'worker stopped' && l.workerId === recycling.workerId);
    for (let i = 0; i < 4; i++) expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

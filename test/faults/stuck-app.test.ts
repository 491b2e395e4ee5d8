import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { BicornProcess } from '../support/bicorn-process.js';
import { Agent } from '../support/http.js';
import { hasPython, servePython } from '../support/python.js';

interface Timed {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly ms: number;
}

/** One GET, on a new connection unless an agent is given, with how long it took. */
function timedGet(url: string, agent: Agent | false = false): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers, ms: performance.now() - started });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts a request that never ends, and waits until the app has it; returns the pid it landed on. */
async function stick(bicorn: BicornProcess, url: string, path: string): Promise<number> {
  timedGet(`${url}${path}`).catch(() => undefined);
  const started = await bicorn.waitForLog(`the app to start ${path}`, (l) => l.msg.startsWith(`started ${path} `));
  return Number(started.msg.split(' ')[2]);
}

/** 20 requests at once, each on a new connection: all answered 200 by the app that is not stuck. */
async function twentyOthers(url: string, stuckPid: number, what: string): Promise<void> {
  const answers = await Promise.all(Array.from({ length: 20 }, () => timedGet(`${url}/ok`)));
  expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
  expect(answers.filter((a) => a.body === `ok ${String(stuckPid)}`)).toEqual([]);
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  console.log(`[figure] ${what}: 20 requests on new connections beside a stuck one: all 200, median ${ms[10]?.toFixed(0) ?? '?'} ms, slowest ${ms[19]?.toFixed(0) ?? '?'} ms`);
}

const unresponsive = (l: { msg: string }) => l.msg.startsWith('the Python app does not read its frames');

describe.skipIf(!hasPython)('an app stuck on one request', () => {
  it('leaves the 20 requests sent beside it to the other worker: WSGI stuck in sleep, -w 2 --threads 1', async () => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '2', '--threads', '1', '--graceful-timeout', '1']);
    const url = await bicorn.listening();
    await twentyOthers(url, await stick(bicorn, url, '/hang'), 'WSGI stuck in sleep');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('leaves them to the other worker: WSGI spinning in Python', async () => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '2', '--threads', '1', '--graceful-timeout', '1']);
    const url = await bicorn.listening();
    await twentyOthers(url, await stick(bicorn, url, '/busy'), 'WSGI busy loop');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('leaves them to the other worker: C code holding the GIL, with a thread to spare', async () => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '2', '--threads', '2', '--graceful-timeout', '1']);
    const url = await bicorn.listening();
    const stuckPid = await stick(bicorn, url, '/gil');
    await bicorn.waitForLog('the worker to see its app stuck', unresponsive);
    await twentyOthers(url, stuckPid, 'WSGI, C holding the GIL');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('leaves them to the other worker: an ASGI app that blocks its event loop', async () => {
    const bicorn = servePython('faults_asgi:app', ['-w', '2', '--graceful-timeout', '1']);
    const url = await bicorn.listening();
    const stuckPid = await stick(bicorn, url, '/block');
    await bicorn.waitForLog('the worker to see its app stuck', unresponsive);
    await twentyOthers(url, stuckPid, 'ASGI, event loop blocked');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('answers a keep-alive request that waits past queue_timeout with 503, Retry-After and Connection: close', async () => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '1', '--threads', '1', '--queue-timeout', '1', '--graceful-timeout', '1']);
    const url = await bicorn.listening();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await timedGet(`${url}/ok`, agent)).status).toBe(200);
    await stick(bicorn, url, '/hang');
    const waited = await timedGet(`${url}/ok`, agent);
    agent.destroy();
    expect(waited).toMatchObject({ status: 503, headers: { 'retry-after': '1', connection: 'close' } });
    expect(bicorn.lines.filter((l) => l.msg === 'the app did not start the request within queue_timeout; answering 503')).toHaveLength(1);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { BicornProcess } from '../support/bicorn-process.js';
import { rawExchange } from '../support/front.js';
import { Agent, get, post } from '../support/http.js';
import { pollUntil } from '../support/poll.js';
import { bytesRead, pythonPidOf, socketDescriptors } from '../support/proc.js';
import { hasPython, servePython } from '../support/python.js';

const MiB = 1024 * 1024;

/** The pids of the Python processes that started a path so far, from the app's own lines. */
const startedBy = (bicorn: BicornProcess, path: string): number[] => bicorn.lines.filter((l) => l.msg.startsWith(`started ${path} `)).map((l) => Number(l.msg.split(' ')[2]));
/** The pid of the first Python process that started a path; a test that finds none fails. */
function pythonOf(bicorn: BicornProcess, path: string): number {
  const [pid] = startedBy(bicorn, path);
  if (pid === undefined || !(pid > 0)) throw new Error(`no Python process started ${path}`);
  return pid;
}
const died = (bicorn: BicornProcess) => bicorn.lines.filter((l) => l.msg.startsWith('the Python process died'));

/** A GET whose outcome is its status, or the error code of a connection cut. */
function outcome(url: string, agent: Agent | false = false): Promise<string> {
  return get(url, agent).then(
    (answer) => `${String(answer.status)} ${answer.body}`,
    (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error',
  );
}

describe.skipIf(!hasPython)('a Python process that dies', () => {
  it('under kill -9 costs only what it had started: 502 for those, and the waiting requests are served by the next one, with no connection reset', async () => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '1', '--threads', '2']);
    const url = await bicorn.listening();
    const worker = bicorn.workerPid();
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await outcome(`${url}/ok`, keepAlive)).toMatch(/^200 ok /);
    const started = [outcome(`${url}/sleep?s=30`), outcome(`${url}/sleep?s=30`)];
    await pollUntil('both threads to be busy', () => (startedBy(bicorn, '/sleep').length === 2 ? true : undefined));
    const waiting = Array.from({ length: 6 }, () => outcome(`${url}/ok`));
    const python = pythonOf(bicorn, '/sleep');
    process.kill(python, 'SIGKILL');
    expect(await Promise.all(started)).toEqual(['502 Bad Gateway\n', '502 Bad Gateway\n']);
    const answers = await Promise.all(waiting);
    expect(answers.every((a) => a.startsWith('200 ok ') && a !== `200 ok ${String(python)}`)).toBe(true);
    // The idle keep-alive connection lived through it: the worker is the same one.
    expect(await outcome(`${url}/ok`, keepAlive)).toMatch(/^200 ok /);
    keepAlive.destroy();
    expect(died(bicorn)).toMatchObject([{ level: 50, signal: 'SIGKILL', inFlight: ['GET /sleep', 'GET /sleep'] }]);
    expect(bicorn.workerPids()).toEqual([worker]);
    expect(bicorn.lines.filter((l) => l.msg === 'worker died')).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.each([
    ['os._exit', '/exit', { code: 13, signal: null }],
    ['a segfault in C', '/segfault', { code: null, signal: 'SIGSEGV' }],
  ])('from a request (%s) answers that request 502, and the next one from a new process', async (_, path, how) => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '1']);
    const url = await bicorn.listening();
    expect(await outcome(`${url}${path}`)).toBe('502 Bad Gateway\n');
    expect(await outcome(`${url}/ok`)).toMatch(/^200 ok /);
    expect(died(bicorn)).toMatchObject([{ ...how, inFlight: [`GET ${path}`] }]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('cuts a response that had begun, and answers 502 for one that had not', async () => {
    const bicorn = servePython('faults_wsgi:application', ['-w', '1', '--threads', '2']);
    const url = await bicorn.listening();
    // A client that reads the head and then stops reading, so the app is still sending; it
    // reads on once the process is gone (a paused socket would not see the cut).
    let readOn = (): void => undefined;
    const begun = new Promise<string>((resolve) => {
      const req = request(`${url}/big?mb=512`, { agent: false }, (res) => {
        res.pause();
        readOn = () => res.resume();
        res.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      req.end();
    });
    const notBegun = outcome(`${url}/sleep?s=30`);
    await pollUntil('both requests to start', () => (startedBy(bicorn, '/big').length + startedBy(bicorn, '/sleep').length === 2 ? true : undefined));
    process.kill(pythonOf(bicorn, '/sleep'), 'SIGKILL');
    expect(await notBegun).toBe('502 Bad Gateway\n');
    readOn();
    expect(['cut', 'ECONNRESET']).toContain(await begun);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('lends the next process client sockets too', async () => {
    const bicorn = servePython('big_wsgi:application', ['-w', '1']);
    const url = await bicorn.listening();
    const worker = bicorn.workerPid();
    process.kill(pythonPidOf(bicorn.pid), 'SIGKILL');
    await bicorn.waitForLog('the next Python process', (l) => l.msg.startsWith('a new Python process is ready'));
    const readBefore = bytesRead(worker);
    expect((await get(`${url}/download?mb=4`)).body.length).toBe(4 * MiB);
    // The body did not pass through the worker, which would have read it from the socket pair.
    expect(bytesRead(worker) - readBefore).toBeLessThan(MiB);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('under kill -9 while it receives a large upload answers that upload 502, and the next process receives the next one', async () => {
    const bicorn = servePython('big_wsgi:application', ['-w', '1']);
    const url = new URL(await bicorn.listening());
    const worker = bicorn.workerPid();
    const python = pythonPidOf(bicorn.pid);
    const idle = socketDescriptors(python);
    const head = Buffer.from(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(8 * MiB)}\r\n\r\n`);
    const answer = rawExchange(url.href, Buffer.concat([head, Buffer.alloc(3 * MiB, 0x78)]), { timeoutMs: 10_000 });
    await pollUntil('the Python process to take the socket', () => (socketDescriptors(python) > idle ? true : undefined));
    process.kill(python, 'SIGKILL');
    expect((await answer).status).toBe(502);
    await bicorn.waitForLog('the next Python process', (l) => l.msg.startsWith('a new Python process is ready'));
    const readBefore = bytesRead(worker);
    const next = await post(`${url.href}upload`, 'x'.repeat(4 * MiB));
    expect([next.status, JSON.parse(next.body)]).toMatchObject([200, { bytes: 4 * MiB }]);
    expect(bytesRead(worker) - readBefore).toBeLessThan(MiB);
    expect(bicorn.workerPids()).toEqual([worker]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('in an ASGI app answers 502 for what the app had started, and serves on', async () => {
    const bicorn = servePython('faults_asgi:app', ['-w', '1']);
    const url = await bicorn.listening();
    const sleeping = outcome(`${url}/sleep?s=30`);
    await pollUntil('the app to start the request', () => (startedBy(bicorn, '/sleep').length === 1 ? true : undefined));
    expect(await outcome(`${url}/segfault`)).toBe('502 Bad Gateway\n');
    expect(await sleeping).toBe('502 Bad Gateway\n');
    expect(await outcome(`${url}/ok`)).toMatch(/^200 ok /);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

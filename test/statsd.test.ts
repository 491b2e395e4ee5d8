// --statsd-host end to end: gunicorn's StatsD metric names, as a StatsD server receives them over
// UDP or on a unix datagram socket, counted once per request by the workers and once a second
// (the workers gauge) by the master.
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { BicornProcess } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { hasPython, noPython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const APP = "export default { fetch: (request) => new Response('ok', { status: new URL(request.url).pathname === '/missing' ? 404 : 200 }) };\n";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A StatsD server's view: every metric line received so far. */
interface Received {
  readonly lines: string[];
  /** Waits until `match` holds for the lines received. */
  until(what: string, match: (lines: readonly string[]) => boolean): Promise<readonly string[]>;
}

function received(): Received {
  const lines: string[] = [];
  return {
    lines,
    until: (what, match) => pollUntil(() => `${what}; received ${JSON.stringify(lines)}`, () => (match(lines) ? lines : undefined), 15_000),
  };
}

async function udpServer(): Promise<{ port: number; got: Received }> {
  const socket: Socket = createSocket('udp4');
  cleanups.push(() => socket.close());
  const got = received();
  socket.on('message', (message) => got.lines.push(...message.toString().split('\n')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, got };
}

/** Node has no unix datagram socket to receive on; python3 binds one and prints each line. */
async function unixServer(path: string): Promise<Received> {
  const child = spawn('python3', ['-u', '-c', 'import socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("ready")\nwhile True:\n    print(s.recv(65536).decode())', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill());
  const got = received();
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve) => {
    lines.once('line', () => resolve());
  });
  lines.on('line', (line) => got.lines.push(line));
  return got;
}

const count = (lines: readonly string[], line: string): number => lines.filter((l) => l === line).length;

function app(): string {
  const dir = tempDir('bicorn-statsd-');
  writeFileSync(join(dir, 'app.mjs'), APP);
  return join(dir, 'app.mjs');
}

describe('StatsD metrics', () => {
  it("sends gunicorn's metric names with the prefix and dogstatsd tags, each request counted once", async () => {
    const { port, got } = await udpServer();
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '-w', '2', '--statsd-host', `127.0.0.1:${String(port)}`, '--statsd-prefix', 'shop.', '--dogstatsd-tags', 'env:test,team:web', app()]);
    const url = await bicorn.listening();
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await get(`${url}/missing`)).status).toBe(404);
    const tags = '|#env:test,team:web';
    const lines = await got.until('three requests and the workers gauge', (l) => count(l, `shop.gunicorn.requests:1|c|@1.0${tags}`) === 3 && l.includes(`shop.gunicorn.workers:2|g${tags}`));
    expect(count(lines, `shop.gunicorn.request.status.200:1|c|@1.0${tags}`)).toBe(2);
    expect(count(lines, `shop.gunicorn.request.status.404:1|c|@1.0${tags}`)).toBe(1);
    const durations = lines.filter((l) => l.startsWith('shop.gunicorn.request.duration:'));
    expect(durations).toHaveLength(3);
    for (const line of durations) expect(line).toMatch(/^shop\.gunicorn\.request\.duration:\d+(\.\d+)?\|ms\|#env:test,team:web$/);
    // A warning the master logs is counted as gunicorn counts its own.
    const warning = `shop.gunicorn.log.warning:1|c|@1.0${tags}`;
    const warnings = count(lines, warning);
    bicorn.signal('SIGTTOU');
    await bicorn.waitForLog('the scale-down', (l) => l.msg === 'removing workers');
    bicorn.signal('SIGTTOU');
    await bicorn.waitForLog('the refused scale-down', (l) => l.msg === 'scaling ignored: one worker is the least');
    await got.until('the warning counted', (l) => count(l, warning) > warnings);
    await bicorn.stop();
    expect(count(got.lines, `shop.gunicorn.requests:1|c|@1.0${tags}`)).toBe(3);
  });

  it.skipIf(!hasPython)(`sends to a unix datagram socket given as unix:PATH${noPython}`, async () => {
    const path = join(tempDir('bicorn-statsd-'), 'statsd.sock');
    const got = await unixServer(path);
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '-w', '1', '--statsd-host', `unix:${path}`, app()]);
    const url = await bicorn.listening();
    expect((await get(`${url}/`)).status).toBe(200);
    await got.until('the request and the workers gauge', (l) => l.includes('gunicorn.requests:1|c|@1.0') && l.includes('gunicorn.workers:1|g'));
    await bicorn.stop();
  });

  it('names the setting when the address is not one', async () => {
    const bicorn = new BicornProcess(['--statsd-host', 'localhost:http', app()]);
    const exit = await bicorn.exited;
    expect(exit.code).toBe(2);
    expect(bicorn.stderr).toContain('statsd_host');
  });
});

// The fault scenarios run the same way against bicorn, gunicorn (sync) and uvicorn from the
// shared .venv, for the README's reliability table: each server on a unix socket with 2
// workers, serving the same fixture apps. A measurement, run by hand (it takes about 4 minutes):
//
//   BICORN_FAULTS_PEERS=1 pnpm test:faults test/faults/peers.test.ts
//
// It prints one row per server and scenario; it fails only when a server does not start.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { binary, repoRoot } from '../support/bicorn-process.js';
import { flood } from '../support/flood.js';
import { pollUntil } from '../support/poll.js';
import { pythonFixtures } from '../support/python.js';
import { tempDir } from '../support/temp-dir.js';

const venv = join(repoRoot, '.venv', 'bin');
const URL = 'http://localhost';

interface Server {
  readonly name: string;
  /** Its command for a socket path, and whether it serves the ASGI fixture. */
  readonly command: (socket: string) => readonly string[];
  readonly asgi: boolean;
}

const servers: readonly Server[] = [
  { name: 'bicorn (WSGI)', asgi: false, command: (s) => [process.execPath, '--', binary, '-w', '2', '-b', `unix:${s}`, '--chdir', pythonFixtures, 'faults_wsgi:application'] },
  { name: 'gunicorn 27 sync', asgi: false, command: (s) => [join(venv, 'gunicorn'), '-w', '2', '-b', `unix:${s}`, '--chdir', pythonFixtures, 'faults_wsgi:application'] },
  { name: 'bicorn (ASGI)', asgi: true, command: (s) => [process.execPath, '--', binary, '-w', '2', '-b', `unix:${s}`, '--chdir', pythonFixtures, 'faults_asgi:app'] },
  { name: 'uvicorn 0.54', asgi: true, command: (s) => [join(venv, 'uvicorn'), '--workers', '2', '--uds', s, '--app-dir', pythonFixtures, '--log-level', 'warning', 'faults_asgi:app'] },
];

const started = new Set<ChildProcess>();
afterEach(() => {
  for (const child of started) if (child.pid !== undefined) killTree(child.pid);
  started.clear();
});

async function start(server: Server): Promise<{ socket: string; pid: number }> {
  const socket = join(tempDir('bicorn-peers-'), 's');
  const [command = '', ...args] = server.command(socket);
  const child = spawn(command, args, { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
  if (child.pid === undefined) throw new Error(`${server.name} did not start`);
  started.add(child);
  // Serving once both workers answer: /ok names the process that answered.
  const seen = new Set<string>();
  await pollUntil(`${server.name} to serve`, async () => {
    if (!existsSync(socket)) return undefined;
    const answer = await get('/ok', socket);
    if (answer.startsWith('200 ok ')) seen.add(answer);
    return seen.size >= 2 ? true : undefined;
  }, 30_000, 50);
  return { socket, pid: child.pid };
}

/** A GET on a new connection: `status body`, or what went wrong. */
function get(path: string, socket: string, deadlineMs = 15_000): Promise<string> {
  return new Promise((resolve) => {
    const req = request(`${URL}${path}`, { socketPath: socket, agent: false, timeout: deadlineMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(`${String(res.statusCode)} ${body}`));
      res.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    req.end();
  });
}

/** The processes under `root`, and whether each runs Python. */
function descendants(root: number): { pid: number; python: boolean }[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const found: { pid: number; python: boolean }[] = [];
  const visit = (pid: number): void => {
    for (const [child, parent] of parents) {
      if (parent !== pid) continue;
      let python = false;
      try {
        // The executable, as gunicorn renames its processes' command lines.
        python = readlinkSync(`/proc/${String(child)}/exe`).includes('python');
      } catch {
        // gone
      }
      found.push({ pid: child, python });
      visit(child);
    }
  };
  visit(root);
  return found;
}

/** The Python processes that serve requests: the deepest ones under the server. */
function appProcesses(root: number): number[] {
  const all = descendants(root);
  return all.filter((p) => p.python && descendants(p.pid).length === 0).map((p) => p.pid);
}

function killTree(root: number): void {
  for (const { pid } of descendants(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    process.kill(root, 'SIGKILL');
  } catch {
    // gone
  }
}

const row = (server: Server, scenario: string, result: string): void => {
  console.log(`[peers] | ${server.name} | ${scenario} | ${result} |`);
};

describe.runIf(process.env.BICORN_FAULTS_PEERS === '1')('the fault scenarios against bicorn and its peers', () => {
  it.each(servers)('one request stuck forever, 20 others on new connections: $name', async (server) => {
    const { socket } = await start(server);
    void get(server.asgi ? '/block' : '/hang', socket, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const began = performance.now();
    const answers = await Promise.all(Array.from({ length: 20 }, async () => {
      const at = performance.now();
      const answer = await get('/ok', socket);
      return { ok: answer.startsWith('200 '), ms: performance.now() - at };
    }));
    const slowest = Math.max(...answers.map((a) => a.ms));
    row(server, 'stuck request', `${String(answers.filter((a) => a.ok).length)}/20 answered 200, slowest ${slowest.toFixed(0)} ms (${((performance.now() - began) / 1000).toFixed(1)} s in all)`);
    expect(answers).toHaveLength(20);
  });

  it.each(servers)('kill -9 of a Python process under load: $name', async (server) => {
    const { socket, pid } = await start(server);
    const tally: Record<string, number> = {};
    let running = true;
    const loops = Array.from({ length: 16 }, async () => {
      while (running) {
        const answer = await get('/ok', socket);
        const key = answer.startsWith('200 ') ? '200' : answer.split(' ')[0] ?? answer;
        tally[key] = (tally[key] ?? 0) + 1;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const [victim] = appProcesses(pid);
    if (victim === undefined) throw new Error(`no app process under ${server.name}`);
    process.kill(victim, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    running = false;
    await Promise.all(loops);
    row(server, 'kill -9 of an app process, 16 clients on new connections', JSON.stringify(tally));
    expect(victim).toBeDefined();
  });

  it.each(servers)('10 crashing requests a second for 30 s, 20 healthy ones a second: $name', async (server) => {
    const { socket, pid } = await start(server);
    const { crash, healthy } = await flood({ url: URL, socketPath: socket, seconds: 30, kinds: { crash: { path: '/exit', perSecond: 10 }, healthy: { path: '/ok', perSecond: 20 } } });
    const alive = descendants(pid).length > 0;
    row(server, 'crash flood', `healthy ${String(healthy?.statuses['200'] ?? 0)}/${String(healthy?.sent ?? 0)} answered 200 ${JSON.stringify(healthy?.statuses)}; crashing ${JSON.stringify(crash?.statuses)}; serving after: ${String(alive)}`);
    expect(healthy).toBeDefined();
  });

  it.each(servers)('kill -9 of the master with a request in flight: $name', async (server) => {
    const { socket, pid } = await start(server);
    const inFlight = get('/sleep?s=2', socket);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const workers = descendants(pid).map((p) => p.pid);
    process.kill(pid, 'SIGKILL');
    const answer = await inFlight;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const left = workers.filter((p) => existsSync(`/proc/${String(p)}`) && !readFileSync(`/proc/${String(p)}/stat`, 'utf8').includes(') Z '));
    row(server, 'kill -9 of the master', `in-flight request: ${answer.split('\n')[0] ?? answer}; processes left 5 s later: ${String(left.length)} of ${String(workers.length)}`);
    for (const orphan of left) killTree(orphan);
    expect(workers.length).toBeGreaterThan(0);
  });
});

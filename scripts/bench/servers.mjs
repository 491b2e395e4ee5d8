// How to start each server under test on 127.0.0.1 and wait until it answers, and how to stop
// it: bicorn, gunicorn (sync, gthread, and sync behind nginx), uvicorn, hypercorn, granian, a
// raw node:http cluster, and nginx serving static files. Runs in the harness process; every process goes through processes.mjs.
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startProcess, stopProcess, treeProcesses } from './processes.mjs';
import { startNginx, startNginxStatic } from './nginx.mjs';
import { appsDir, bicornBin, venvBin } from './paths.mjs';

const READY_TIMEOUT_MS = 45_000;
const PORT_TRIES = 5;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port that was free a moment ago; the server may still lose it, and then we retry. */
async function pickPort() {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const free = await new Promise((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** One GET (https:// with the bench's own certificate, unchecked); resolves { status, body } or rejects (refused, reset, timed out). */
export function get(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : request;
    const req = send(url, { agent: false, timeout: timeoutMs, rejectUnauthorized: false, headers: { connection: 'close' } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const lostPort = (text) => /EADDRINUSE|Address already in use|address already in use|os error 98/.test(text);

/**
 * Polls `url` until it answers 200 with `expect` in the body, the processes exit, or the
 * deadline passes. Resolves 'ready' or 'port-lost'; throws with the server's output otherwise.
 */
async function waitReady(label, procs, url, expect) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const dead = procs.find((proc) => proc.hasExited);
    if (dead !== undefined) {
      if (lostPort(dead.output())) return 'port-lost';
      throw new Error(`${label} exited before answering ${url}:\n${dead.output().slice(-4000)}`);
    }
    try {
      const answer = await get(url, 1000);
      if (answer.status === 200 && answer.body.includes(expect)) return 'ready';
      last = `status ${answer.status}: ${answer.body.slice(0, 300)}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`${label} did not answer 200 on ${url} within ${READY_TIMEOUT_MS / 1000} s (last: ${last}):\n${procs.map((p) => p.output().slice(-2000)).join('\n')}`);
}

function pythonEnv(app) {
  return { ...process.env, PYTHONPATH: app.cwd, PYTHONDONTWRITEBYTECODE: '1', ...app.env };
}

/** Each kind of server: its command line for a port (or null: bicorn binds port 0 itself). */
const commands = {
  bicorn: (entry, app, workers) => {
    const args = ['--', bicornBin, '-w', String(workers), '-b', '127.0.0.1:0', '--log-format', 'json', '--chdir', app.cwd];
    if (app.kind === 'python') args.push('--python', join(venvBin, 'python'));
    if (entry.interface !== undefined) args.push('--interface', entry.interface);
    if (entry.threads !== undefined) args.push('--threads', String(entry.threads));
    if (entry.static) args.push('--static', `/static/=${app.env.BENCH_STATIC_ROOT}`);
    if (entry.metrics) args.push('--metrics-bind', '127.0.0.1:0');
    if (entry.h2c) args.push('--http-protocols', 'h2,h1', '--http2-cleartext', 'prior-knowledge');
    if (entry.tls) args.push('--certfile', app.env.BENCH_TLS_CERT, '--keyfile', app.env.BENCH_TLS_KEY);
    args.push(entry.target ?? app.target);
    return { command: process.execPath, args, env: pythonEnv(app) };
  },
  gunicorn: (entry, app, workers, port) => ({
    command: join(venvBin, 'gunicorn'),
    args: ['-w', String(workers), '-k', entry.workerClass, ...(entry.threads === undefined ? [] : ['--threads', String(entry.threads)]), ...(entry.tls ? ['--certfile', app.env.BENCH_TLS_CERT, '--keyfile', app.env.BENCH_TLS_KEY] : []), '-b', `127.0.0.1:${port}`, '--log-level', 'warning', '--chdir', app.cwd, app.target],
    env: pythonEnv(app),
  }),
  uvicorn: (entry, app, workers, port) => ({
    command: join(venvBin, 'uvicorn'),
    args: ['--workers', String(workers), '--http', 'httptools', '--loop', 'uvloop', '--no-access-log', '--log-level', 'warning', ...(entry.tls ? ['--ssl-certfile', app.env.BENCH_TLS_CERT, '--ssl-keyfile', app.env.BENCH_TLS_KEY] : []), '--host', '127.0.0.1', '--port', String(port), '--app-dir', app.cwd, app.target],
    env: pythonEnv(app),
  }),
  hypercorn: (entry, app, workers, port) => ({
    command: join(venvBin, 'hypercorn'),
    // uvloop, as uvicorn and bicorn (--loop auto) use it.
    args: ['-w', String(workers), '-k', 'uvloop', '-b', `127.0.0.1:${port}`, '--log-level', 'warning', app.target],
    env: pythonEnv(app),
  }),
  granian: (entry, app, workers, port) => ({
    command: join(venvBin, 'granian'),
    args: ['--interface', entry.interface, '--workers', String(workers), '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warning', '--working-dir', app.cwd, app.target],
    env: pythonEnv(app),
  }),
  'node-cluster': (entry, app, workers, port) => ({
    command: process.execPath,
    args: [join(appsDir, 'node_cluster.mjs'), String(workers), String(port)],
    env: process.env,
  }),
};

function listeningPort(output) {
  for (const line of output.split('\n')) {
    if (!line.includes('"listening"')) continue;
    try {
      const entry = JSON.parse(line);
      const address = entry.msg === 'listening' ? entry.addresses?.[0] : undefined;
      if (typeof address === 'string') return Number(address.slice(address.lastIndexOf(':') + 1));
    } catch {
      // Not a JSON line.
    }
  }
  return undefined;
}

async function bicornPort(proc) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const port = listeningPort(proc.output());
    if (port !== undefined) return port;
    if (proc.hasExited) throw new Error(`bicorn exited before listening:\n${proc.output().slice(-4000)}`);
    await sleep(50);
  }
  throw new Error(`bicorn printed no listening line within ${READY_TIMEOUT_MS / 1000} s:\n${proc.output().slice(-4000)}`);
}

/** Starts one server kind on a port, retrying another port when it loses the one picked. */
async function startOne(kind, entry, app, workers) {
  for (let attempt = 1; attempt <= PORT_TRIES; attempt += 1) {
    const picked = kind === 'bicorn' ? 0 : await pickPort();
    const { command, args, env } = commands[kind](entry, app, workers, picked);
    const proc = startProcess(`${entry.label} -w ${workers}`, command, args, { cwd: app.cwd, env });
    const port = kind === 'bicorn' ? await bicornPort(proc).catch(async (error) => {
      await stopProcess(proc);
      throw error;
    }) : picked;
    const base = `${entry.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const state = await waitReady(entry.label, [proc], base + app.probe, app.expect).catch(async (error) => {
      await stopProcess(proc);
      throw error;
    });
    if (state === 'ready') return { proc, port };
    await stopProcess(proc);
  }
  throw new Error(`${entry.label} lost its port ${PORT_TRIES} times in a row`);
}

/**
 * How long each bicorn worker took to boot, in ms: from its fork to its readiness, as the
 * master measured it (the bootMs of its "worker ready" line). Not from /proc: a process's start
 * time there counts from the boot time in whole seconds, which put up to a second on each
 * figure. Empty for other servers, which do not say.
 */
function workerBootMs(output) {
  const boots = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"worker ready"')) continue;
    try {
      const { bootMs } = JSON.parse(line);
      if (typeof bootMs === 'number') boots.push(bootMs);
    } catch {
      // Not a JSON line.
    }
  }
  return boots;
}

/**
 * Starts `entry` (a server of a scenario group) for `app` with `workers` workers. Resolves a
 * handle: { label, base, startMs, workerBootMs, processes(), output(), stop() }: `startMs` from
 * the spawn to the first 200, `processes()` every process of the server's tree with its role
 * (processes.mjs's treeProcesses; behind nginx, nginx's too, as `nginx master`/`nginx worker`).
 */
export async function startServer(entry, app, workers) {
  const spawned = Date.now();
  if (entry.server === 'nginx-static') {
    const nginx = await startNginxStatic(app.env.BENCH_STATIC_ROOT, workers, pickPort, (procs, url) => waitReady('nginx', procs, url, app.expect), app.probe);
    return {
      label: entry.label,
      workerBootMs: [],
      output: () => nginx.proc.output(),
      base: `http://127.0.0.1:${nginx.port}`,
      startMs: Date.now() - spawned,
      processes: () => treeProcesses(nginx.proc.pid),
      stop: async () => {
        await stopProcess(nginx.proc);
        await nginx.cleanup();
      },
    };
  }
  const backend = await startOne(entry.server, entry, app, workers);
  const common = { label: entry.label, workerBootMs: workerBootMs(backend.proc.output()), output: () => backend.proc.output() };
  if (!entry.nginx) {
    return {
      ...common,
      base: `${entry.tls ? 'https' : 'http'}://127.0.0.1:${backend.port}`,
      startMs: Date.now() - spawned,
      processes: () => treeProcesses(backend.proc.pid),
      stop: () => stopProcess(backend.proc),
    };
  }
  let front;
  try {
    front = await startNginx(backend.port, pickPort, (procs, url) => waitReady('nginx', procs, url, app.expect), app.probe);
  } catch (error) {
    await stopProcess(backend.proc);
    throw error;
  }
  return {
    ...common,
    base: `http://127.0.0.1:${front.port}`,
    startMs: Date.now() - spawned,
    processes: () => [...treeProcesses(backend.proc.pid), ...treeProcesses(front.proc.pid).map((p) => ({ ...p, role: `nginx ${p.role}` }))],
    stop: async () => {
      await stopProcess(front.proc);
      await stopProcess(backend.proc);
      await front.cleanup();
    },
  };
}

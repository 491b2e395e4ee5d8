// gunicorn.conf.py end to end: read by running it in the app's Python (computed values, $PORT,
// python:module, ./gunicorn.conf.py by default), and its server hooks: worker-side ones in each
// worker's Python process, master-side ones in the master's hook process, with the pids hooks in
// the wild rely on (prometheus_client's multiprocess mode), and what a hook that raises does.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, repoRoot, runBicorn } from './support/bicorn-process.js';
import { checkRows } from './support/check-table.js';
import { get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { skipped } from './support/skip.js';
import { tempDir } from './support/temp-dir.js';

// The pinned prometheus_client lives in the repo's virtualenv, made by `pnpm python:setup`.
const python = join(repoRoot, '.venv', 'bin', 'python');
const hasPrometheus = spawnSync(python, ['-c', 'import prometheus_client']).status === 0;
const noVenv = skipped(!hasPrometheus, 'no prometheus_client in .venv; run `pnpm python:setup`');

const APP = `
import os

def application(environ, start_response):
    start_response("200 OK", [("content-type", "text/plain")])
    return [str(os.getpid()).encode()]
`;

/** A project folder with app.py and the given gunicorn.conf.py. */
function project(conf: string, files: Record<string, string> = {}): string {
  const dir = tempDir('bicorn-gunicorn-conf-');
  for (const [name, text] of Object.entries({ 'app.py': APP, 'gunicorn.conf.py': conf, ...files })) writeFileSync(join(dir, name), text);
  return dir;
}

/** Waits until `condition` holds, on a busy machine: the hooks run in other processes. */
async function until(what: string, condition: () => boolean): Promise<void> {
  await pollUntil(what, () => (condition() ? true : undefined), 30_000);
}

/**
 * What the hooks wrote to notes.jsonl, one JSON array per call: the lines written whole (a hook
 * in another process may be amid one, or have just created the file).
 */
function notes(dir: string): unknown[][] {
  const file = join(dir, 'notes.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').slice(0, -1).map((line) => JSON.parse(line) as unknown[]);
}

const NOTE = `
import json, os

def _note(*what):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.jsonl"), "a") as f:
        f.write(json.dumps(what) + "\\n")
`;

describe('reading a gunicorn config', () => {
  it("runs it in the app's Python: computed values, and gunicorn's names mapped to bicorn's settings", async () => {
    const dir = project(`
import multiprocessing, os
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
bind = ["127.0.0.1:9001", "unix:/tmp/app.sock"]
keepalive = 10
timeout = 90
errorlog = "-"
loglevel = "warning"
raw_env = ["DJANGO_SETTINGS_MODULE=mysite.settings"]
umask = 0o027
wsgi_app = "app:application"
tmp_upload_dir = "/var/tmp/uploads"
`);
    const { code, stdout, stderr } = await runBicorn(['check', '-c', 'gunicorn.conf.py'], { cwd: dir, env: { THREADS: '8' } });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const table = checkRows(stdout);
    const cpus = Number(spawnSync('python3', ['-c', 'import multiprocessing; print(multiprocessing.cpu_count())'], { encoding: 'utf8' }).stdout);
    expect(table.get('workers')).toEqual([String(cpus * 2 + 1), 'gunicorn.conf.py']);
    expect(table.get('threads')).toEqual(['8', 'gunicorn.conf.py']);
    expect(table.get('interface')).toEqual(['"wsgi"', 'gunicorn.conf.py']);
    expect(table.get('bind')).toEqual(['["127.0.0.1:9001","unix:/tmp/app.sock"]', 'gunicorn.conf.py']);
    expect(table.get('keep_alive')).toEqual(['10', 'gunicorn.conf.py']);
    expect(table.get('log_level')).toEqual(['"warn"', 'gunicorn.conf.py']);
    expect(table.get('env')).toEqual(['["DJANGO_SETTINGS_MODULE=…"]', 'gunicorn.conf.py']);
    expect(table.get('umask')).toEqual(['027', 'gunicorn.conf.py']);
    expect(table.get('app')).toEqual(['"app:application"', 'gunicorn.conf.py']);
    expect(table.get('spool_dir')).toEqual(['"/var/tmp/uploads"', 'gunicorn.conf.py']);
    expect(table.get('gunicorn_config')).toEqual([JSON.stringify(join(dir, 'gunicorn.conf.py')), 'gunicorn.conf.py']);
  });

  it('ranks it below the command line and the environment, as a config file', async () => {
    const dir = project('workers = 3\ntimeout = 90\nkeepalive = 7\n');
    const { code, stdout } = await runBicorn(['check', '-w', '5', 'app:application'], { cwd: dir, env: { GUNICORN_CMD_ARGS: '--timeout 20' } });
    expect(code).toBe(0);
    const table = checkRows(stdout);
    expect(table.get('workers')).toEqual(['5', '--workers']);
    expect(table.get('timeout')).toEqual(['20', 'GUNICORN_CMD_ARGS (--timeout)']);
    expect(table.get('keep_alive')).toEqual(['7', 'gunicorn.conf.py']);
  });

  it('reads python:module, and ./gunicorn.conf.py when no config file is named, but a bicorn.config.* wins over it', async () => {
    const dir = project('workers = 3\n', { 'deploy_conf.py': 'workers = 6\n' });
    expect(checkRows((await runBicorn(['check', '-c', 'python:deploy_conf', 'app:application'], { cwd: dir })).stdout).get('workers')).toEqual(['6', 'python:deploy_conf']);
    expect(checkRows((await runBicorn(['check', 'app:application'], { cwd: dir })).stdout).get('workers')).toEqual(['3', 'gunicorn.conf.py']);
    writeFileSync(join(dir, 'bicorn.config.json'), '{"workers": 2}');
    const both = await runBicorn(['check', 'app:application'], { cwd: dir });
    expect(checkRows(both.stdout).get('workers')).toEqual(['2', 'bicorn.config.json']);
    expect(both.stdout).toContain('\nnote: ./gunicorn.conf.py is not read: bicorn.config.json is (a bicorn config file wins); pass -c gunicorn.conf.py to read it instead\n');
  });

  it('warns about names gunicorn does not know, with the closest one, and about values it cannot use', async () => {
    const dir = project('import logging\nlog_level = "debug"\npid_file = "/run/app.pid"\nstatsd_host = {"host": "x"}\nlogger = logging.getLogger()\n_private = 1\n');
    const { code, stdout } = await runBicorn(['check', 'app:application'], { cwd: dir });
    expect(code).toBe(0);
    expect(stdout).toContain('\nwarning: gunicorn.conf.py: unknown setting log_level (gunicorn ignores it); did you mean loglevel?\n');
    expect(stdout).toContain('\nwarning: gunicorn.conf.py: unknown setting pid_file (gunicorn ignores it); did you mean pidfile?\n');
    expect(stdout).toContain('\nwarning: gunicorn.conf.py: statsd_host = {"host":"x"} is not a value gunicorn\'s --statsd-host takes; ignored\n');
    expect(stdout).not.toMatch(/logger|_private/);
  });

  it('a file that fails to run stops bicorn with exit 2 and its traceback', async () => {
    const dir = project('import os\nbind = "0.0.0.0:" + os.environ["NO_SUCH_PORT_VARIABLE"]\n');
    const { code, stderr } = await runBicorn(['check', 'app:application'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^bicorn: error: cannot read config file gunicorn\.conf\.py: it failed when Python \(.*\) ran it:\n/);
    expect(stderr).toContain("KeyError: 'NO_SUCH_PORT_VARIABLE'");
  });
});

describe('serving with a gunicorn config', () => {
  it('binds what $PORT says and serves with computed workers', async () => {
    const dir = project('import os, multiprocessing\nbind = "127.0.0.1:" + os.environ["PORT"]\nworkers = min(2, multiprocessing.cpu_count() + 1)\n');
    const bicorn = new BicornProcess(['app:application'], { cwd: dir, env: { PORT: '0' } });
    const url = await bicorn.listening();
    await bicorn.waitForLog('two workers ready', () => bicorn.workerPids().length === 2);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('runs the server hooks where gunicorn runs them, with worker.pid the Python process', async () => {
    const dir = project(`${NOTE}
bind = "127.0.0.1:0"
workers = 2
def on_starting(server): _note("on_starting", server.pid, server.num_workers)
def when_ready(server): _note("when_ready", sorted(w.age for w in server.WORKERS.values()))
def pre_fork(server, worker): _note("pre_fork", worker.age)
def post_fork(server, worker): _note("post_fork", worker.age, worker.pid, worker.ppid, server.cfg.workers)
def post_worker_init(worker): _note("post_worker_init", worker.age)
def pre_request(worker, req): _note("pre_request", worker.pid, req.method, req.path)
def post_request(worker, req, environ, resp): _note("post_request", worker.pid, resp.status_code)
def worker_exit(server, worker): _note("worker_exit", worker.pid)
def child_exit(server, worker): _note("child_exit", worker.pid)
def nworkers_changed(server, new, old): _note("nworkers_changed", new, old)
def on_exit(server): _note("on_exit")
`);
    const bicorn = new BicornProcess(['--log-format', 'json', 'app:application'], { cwd: dir });
    const url = await bicorn.listening();
    await until('when_ready ran', () => notes(dir).some((n) => n[0] === 'when_ready'));
    const answer = await get(`${url}/hello`);
    const servedBy = Number(answer.body);
    await until('post_request ran', () => notes(dir).some((n) => n[0] === 'post_request'));
    expect((await bicorn.stop()).code).toBe(0);
    const calls = notes(dir);
    const named = (name: string) => calls.filter((n) => n[0] === name);
    expect(calls[0]).toEqual(['nworkers_changed', 2, null]);
    expect(calls[1]).toEqual(['on_starting', bicorn.pid, 2]);
    expect(named('pre_fork')).toEqual([['pre_fork', 1], ['pre_fork', 2]]);
    const forked = named('post_fork');
    expect(forked.map((n) => n[1]).sort()).toEqual([1, 2]);
    // ppid: the master's, as in gunicorn; the worker's pid is its Python process's.
    for (const [, , , ppid, workers] of forked) expect([ppid, workers]).toEqual([bicorn.pid, 2]);
    const pythonPids = forked.map((n) => n[2]);
    for (const pid of pythonPids) expect(bicorn.workerPids()).not.toContain(pid);
    expect(pythonPids).toContain(servedBy);
    expect(named('when_ready')).toEqual([['when_ready', [1, 2]]]);
    expect(named('pre_request')).toEqual([['pre_request', servedBy, 'GET', '/hello']]);
    expect(named('post_request')).toEqual([['post_request', servedBy, 200]]);
    expect(named('worker_exit').map((n) => n[1]).sort()).toEqual([...pythonPids].sort());
    expect(named('child_exit').map((n) => n[1]).sort()).toEqual([...pythonPids].sort());
    expect(calls.at(-1)).toEqual(['on_exit']);
  });

  it('a hook that raises is logged with its traceback, and the server goes on', async () => {
    const dir = project(`
bind = "127.0.0.1:0"
def post_request(worker, req, environ, resp):
    raise RuntimeError("metrics backend down")
def child_exit(server, worker):
    raise ValueError("cleanup failed")
`);
    const bicorn = new BicornProcess(['app:application'], { cwd: dir });
    const url = await bicorn.listening();
    expect((await get(`${url}/`)).status).toBe(200);
    await bicorn.waitForLog('the post_request traceback', (l) => l.msg.includes('Exception in the post_request hook of'));
    await bicorn.waitForLog('the post_request error', (l) => l.msg.includes('RuntimeError: metrics backend down'));
    expect((await get(`${url}/`)).status).toBe(200);
    // A worker that dies is replaced; its child_exit raises, and bicorn serves on.
    const [first] = bicorn.workerPids();
    process.kill(first ?? -1, 'SIGKILL');
    const failed = await bicorn.waitForLog('child_exit raising', (l) => l.msg === 'the child_exit hook raised');
    expect(failed.traceback).toMatch(/ValueError: cleanup failed$/);
    await bicorn.waitForLog('the replacement', () => bicorn.workerPids().length === 2);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('stops as gunicorn does when on_starting, when_ready or post_fork raises', async () => {
    for (const [hook, exitCode] of [['on_starting(server)', 1], ['when_ready(server)', 1], ['post_fork(server, worker)', 3]] as const) {
      const dir = project(`bind = "127.0.0.1:0"\ndef ${hook}:\n    raise RuntimeError("refusing to start")\n`);
      const { code, stderr } = await runBicorn(['app:application'], { cwd: dir });
      const name = hook.split('(')[0] ?? hook;
      expect(code, name).toBe(exitCode);
      expect(stderr).toMatch(new RegExp(`the ${name} hook in .*gunicorn\\.conf\\.py raised, which stops bicorn as it stops gunicorn:\\n`));
      expect(stderr).toContain('RuntimeError: refusing to start');
    }
  });

  it('runs worker_int on a fast stop and worker_abort on an app given up as stuck', async () => {
    const dir = project(`${NOTE}
bind = "127.0.0.1:0"
def worker_int(worker): _note("worker_int", worker.pid)
def worker_abort(worker): _note("worker_abort", worker.pid)
`, { 'hang.py': 'import time\n\ndef application(environ, start_response):\n    time.sleep(600)\n' });
    const stuck = new BicornProcess(['--request-timeout', '1', 'hang:application'], { cwd: dir });
    const url = await stuck.listening();
    expect((await get(`${url}/`)).status).toBe(504);
    await until('worker_abort ran', () => notes(dir).some((n) => n[0] === 'worker_abort'));
    expect((await stuck.stop()).code).toBe(0);

    const fast = new BicornProcess(['app:application'], { cwd: dir });
    await fast.listening();
    fast.signal('SIGQUIT');
    expect((await fast.exited).code).toBe(0);
    expect(notes(dir).some((n) => n[0] === 'worker_int')).toBe(true);
  });

  it.skipIf(!hasPrometheus)(`supports prometheus_client's multiprocess mode: mark_process_dead(worker.pid) in child_exit${noVenv}`, async () => {
    const metrics = tempDir('bicorn-prometheus-');
    const dir = project(
      `
from prometheus_client import multiprocess

bind = "127.0.0.1:0"
workers = 2

def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
`,
      {
        'metrics_app.py': `
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest, multiprocess

REQUESTS = Counter("app_requests", "Requests served")
IN_PROGRESS = Gauge("app_in_progress", "Requests in progress", multiprocess_mode="livesum")

def application(environ, start_response):
    with IN_PROGRESS.track_inprogress():
        REQUESTS.inc()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_response("200 OK", [("content-type", "text/plain")])
    return [generate_latest(registry)]
`,
      },
    );
    const bicorn = new BicornProcess(['--python', python, 'metrics_app:application'], { cwd: dir, env: { PROMETHEUS_MULTIPROC_DIR: metrics } });
    const url = await bicorn.listening();
    await bicorn.waitForLog('two workers ready', () => bicorn.workerPids().length === 2);
    const files = (prefix: string) => readdirSync(metrics).filter((f) => f.startsWith(prefix));
    // Each Python process keeps its values in files of its own, named after its pid.
    expect(files('gauge_livesum_')).toHaveLength(2);
    expect((await get(`${url}/`)).body).toContain('app_requests_total 1.0');
    // One worker stops (TTOU): its live gauge goes with it, and its counts stay.
    bicorn.signal('SIGTTOU');
    await until("the stopped worker's live gauge removed by child_exit", () => files('gauge_livesum_').length === 1);
    expect(files('counter_')).toHaveLength(2);
    expect((await get(`${url}/`)).body).toContain('app_requests_total 2.0');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

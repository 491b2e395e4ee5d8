// The control socket end to end: a running server, and `bicorn status`, `reload`, `scale`,
// `stop` and `reopen-logs` run as separate processes against it.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, binary, fixture, repoRoot, runBicorn } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { hasPython, noPython, servePython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');

interface Status {
  readonly phase: string;
  readonly generation: number;
  readonly workers: number;
  readonly listeners: string[];
  readonly rows: { id: number; pid: number; pythonPid: number | null; generation: number; state: string; served: number | null; inFlight: number | null; rssBytes: number | null; restartCause: string | null; appFree: boolean | null; waiting: number | null; pythonRestarts: number }[];
}

/** A server with its control socket in a fresh folder. */
async function serve(extra: readonly string[] = []): Promise<{ bicorn: BicornProcess; url: string; socket: string; dir: string }> {
  const dir = tempDir('bicorn-control-');
  const socket = join(dir, 'bicorn.ctl');
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--control-socket', socket, ...extra]);
  const url = await bicorn.listening();
  return { bicorn, url, socket, dir };
}

async function status(socket: string): Promise<Status> {
  const { code, stdout, stderr } = await runBicorn(['status', '--json', '-s', socket]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as Status;
}

describe('bicorn status', () => {
  it('shows each worker with its pid, generation, state, requests served and memory, as a table and as JSON', async () => {
    const { bicorn, url, socket } = await serve(['-w', '2', APP]);
    for (let i = 0; i < 4; i++) await get(`${url}/`);
    // Workers report every second.
    const report = await pollUntil('the reports of four requests', async () => {
      const found = await status(socket);
      return found.rows.reduce((sum, row) => sum + (row.served ?? 0), 0) === 4 ? found : undefined;
    });
    expect(report).toMatchObject({ phase: 'running', generation: 1, workers: 2, listeners: [url.slice('http://'.length)] });
    expect(report.rows.map((row) => [row.id, row.generation, row.state, row.restartCause])).toEqual([
      [1, 1, 'ready', null],
      [2, 1, 'ready', null],
    ]);
    expect(report.rows.map((row) => row.pid).sort()).toEqual(bicorn.workerPids().sort());
    for (const row of report.rows) expect(row.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    const table = await runBicorn(['status', '-s', socket]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^bicorn \S+, pid \d+, running, up \d+s: .*fetch\.mjs\n/);
    expect(table.stdout).toMatch(/\nWORKER +PID +PYTHON +GEN +STATE +AGE +SERVED +IN FLIGHT +APP +WAITING +RSS +PY RESTARTS +RESTART CAUSE\n1 +\d+ +- +1 +ready +\d+s +\d+ +0 +free +0 +[\d.]+ MiB +0 +-\n2 /);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)(`counts a worker's Python restarts, and shows whether its app can start a request now${noPython}`, async () => {
    const dir = tempDir('bicorn-control-');
    const socket = join(dir, 'bicorn.ctl');
    const bicorn = servePython('faults_wsgi:application', ['-w', '1', '--threads', '1', '--graceful-timeout', '1', '--control-socket', socket]);
    const url = await bicorn.listening();
    expect((await get(`${url}/exit`)).status).toBe(502);
    const restarted = await pollUntil('the restart in the report', async () => {
      const [row] = (await status(socket)).rows;
      return row?.pythonRestarts === 1 && row.appFree === true ? row : undefined;
    });
    expect(restarted).toMatchObject({ id: 1, state: 'ready', waiting: 0, restartCause: null });
    // Its one thread taken by a request that never ends: the app can start nothing more.
    void get(`${url}/hang`).catch(() => undefined);
    await bicorn.waitForLog('the app to start /hang', (l) => l.msg.startsWith('started /hang '));
    // The saturation is told once it has lasted a few milliseconds, the requests in flight with
    // the next report (every second).
    const saturated = await pollUntil('the saturated app in the report', async () => {
      const [row] = (await status(socket)).rows;
      return row?.appFree === false && row.inFlight === 1 ? row : undefined;
    });
    expect(saturated).toMatchObject({ pythonRestarts: 1, waiting: 0 });
    expect((await runBicorn(['status', '-s', socket])).stdout).toMatch(/\n1 +\d+ +\d+ +1 +ready +\d+s +\d+ +1 +saturated +0 +[\d.]+ MiB +1 +-\n/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('exits 1 naming the socket when no server answers there', async () => {
    const socket = join(tempDir('bicorn-control-'), 'bicorn.ctl');
    const { code, stderr } = await runBicorn(['status', '-s', socket]);
    expect(code).toBe(1);
    expect(stderr).toBe(`bicorn: error: cannot reach bicorn on its control socket ${socket}: there is no socket there; is it running? Name its socket with --control-socket, or its pid file with --pid\n`);
  });
});

describe('bicorn reload', () => {
  it('waits until the new generation serves; a reload of an invalid config fails with exit 1 and the old workers serve on', async () => {
    const dir = tempDir('bicorn-control-');
    const config = join(dir, 'bicorn.config.json');
    writeFileSync(config, JSON.stringify({ workers: 1 }));
    const { bicorn, url, socket } = await serve(['-c', config, APP]);
    const first = await runBicorn(['reload', '-s', socket]);
    expect(first).toMatchObject({ code: 0, stdout: 'reloaded: generation 2 serves with 1 worker\n' });
    expect((await status(socket)).rows).toMatchObject([{ generation: 2, restartCause: 'reload' }]);
    writeFileSync(config, JSON.stringify({ workers: 'four' }));
    const failed = await runBicorn(['reload', '-s', socket]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^bicorn: error: reload: reload failed: the configuration is invalid: invalid configuration: workers \(from .*bicorn\.config\.json\): expected a positive integer or "auto", got "four"; the old workers keep serving\n$/);
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('bicorn scale', () => {
  it('sets and changes the worker count, waits until it is reached, and refuses to go below one', async () => {
    const { bicorn, socket } = await serve([APP]);
    expect(await runBicorn(['scale', '3', '-s', socket])).toMatchObject({ code: 0, stdout: 'scaled from 1 to 3 workers, all serving\n' });
    const three = await status(socket);
    expect(three.rows.map((row) => [row.state, row.restartCause])).toEqual([
      ['ready', null],
      ['ready', 'scale'],
      ['ready', 'scale'],
    ]);
    expect(await runBicorn(['scale', '-2', '-s', socket])).toMatchObject({ code: 0, stdout: 'scaled from 3 to 1 worker, all serving\n' });
    expect((await status(socket)).rows.map((row) => row.id)).toEqual([1]);
    const refused = await runBicorn(['scale', '-1', '-s', socket]);
    expect(refused).toMatchObject({ code: 1, stderr: 'bicorn: error: scale: cannot scale: one worker is the least (there are 1)\n' });
    expect((await runBicorn(['scale', '+0', '-s', socket])).code).toBe(2);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('bicorn stop and reopen-logs', () => {
  it('reopen-logs reopens the access log, and stop waits until the server has exited', async () => {
    const dir = tempDir('bicorn-control-');
    const accessLog = join(dir, 'access.log');
    const { bicorn, url, socket } = await serve(['--access-logfile', accessLog, APP]);
    await get(`${url}/before`);
    renameSync(accessLog, `${accessLog}.1`);
    expect(await runBicorn(['reopen-logs', '-s', socket])).toMatchObject({ code: 0, stdout: 'reopening the log files of the master and its workers\n' });
    await pollUntil('an access line in the reopened file', async () => {
      if (existsSync(accessLog) && readFileSync(accessLog, 'utf8').includes('/after')) return true;
      await get(`${url}/after`);
      return undefined;
    });
    const stopped = await runBicorn(['stop', '-s', socket]);
    expect(stopped).toMatchObject({ code: 0, stdout: 'stopping: requests in flight finish first\nstopped\n' });
    expect((await bicorn.exited).code).toBe(0);
    expect(bicorn.lines.find((l) => l.msg === 'stopping')).toMatchObject({ by: 'control socket', mode: 'graceful' });
    expect(existsSync(socket)).toBe(false);
  });
});

describe('the control socket', () => {
  it('is beside the pid file by default, its owner only (mode 600), and gone on exit', async () => {
    const dir = tempDir('bicorn-control-');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '-p', join(dir, 'app.pid'), APP]);
    await bicorn.listening();
    const socket = join(dir, 'app.ctl');
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect((await runBicorn(['status', '-p', join(dir, 'app.pid')])).code).toBe(0);
    expect((await bicorn.stop()).code).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  const nobodyRunsNode = process.getuid?.() === 0 && spawnSync(process.execPath, ['-e', `require("fs").accessSync(${JSON.stringify(binary)})`], { uid: 65534, gid: 65534 }).status === 0;
  it.skipIf(!nobodyRunsNode)('refuses another user than its owner, whatever the folder allows', async () => {
    const { bicorn, dir, socket } = await serve([APP]);
    chmodSync(dir, 0o755);
    const other = spawnSync(process.execPath, [binary, 'status', '-s', socket], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain("permission denied: the socket is its owner's");
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('is off, with an info line, when its default folder cannot be made; --no-control-socket turns it off', async () => {
    const dir = tempDir('bicorn-control-');
    writeFileSync(join(dir, 'a-file'), '');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { env: { XDG_RUNTIME_DIR: join(dir, 'a-file', 'run') } });
    await bicorn.listening();
    expect(bicorn.lines.find((l) => l.msg.startsWith('no control socket'))).toMatchObject({ level: 30, path: join(dir, 'a-file', 'run', 'bicorn.ctl') });
    expect((await bicorn.stop()).code).toBe(0);
    const off = new BicornProcess(['-b', '127.0.0.1:0', '--no-control-socket', APP], { env: { XDG_RUNTIME_DIR: dir } });
    await off.listening();
    expect(existsSync(join(dir, 'bicorn.ctl'))).toBe(false);
    expect((await off.stop()).code).toBe(0);
  });

  it('stops bicorn with exit 2 when --control-socket names one that another server answers on', async () => {
    const { bicorn, socket } = await serve([APP]);
    const second = await runBicorn(['-b', '127.0.0.1:0', '--control-socket', socket, APP], { cwd: repoRoot });
    expect(second.code).toBe(2);
    expect(second.stderr).toBe(
      `bicorn: error: cannot use control socket ${socket}: a server is listening on this socket (is bicorn already running there?) (EADDRINUSE); choose another path with --control-socket, or pass --no-control-socket\n`,
    );
    expect((await bicorn.stop()).code).toBe(0);
  });
});

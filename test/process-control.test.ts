import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, runBicorn } from './support/bicorn-process.js';
import { distinctAnswers, get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');

describe('TTIN and TTOU', () => {
  it('add a worker and remove one', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP]);
    const url = await bicorn.listening();
    bicorn.signal('SIGTTIN');
    await bicorn.waitForLog('the added worker', (l) => l.msg === 'worker ready' && l.workerId === 2);
    expect((await distinctAnswers(`${url}/`, 2)).size).toBe(2);
    bicorn.signal('SIGTTOU');
    const stopped = await bicorn.waitForLog('the removed worker', (l) => l.msg === 'worker stopped');
    expect(stopped).toMatchObject({ workerId: 2, reason: 'scaled down' });
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add((await get(`${url}/`)).body);
    expect(answers.size).toBe(1);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('USR1', () => {
  it('reopens the access log, so that logrotate can move it away', async () => {
    const dir = tempDir('bicorn-control-');
    const accessLog = join(dir, 'access.log');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--access-logfile', accessLog, APP]);
    const url = await bicorn.listening();
    await get(`${url}/before`);
    renameSync(accessLog, `${accessLog}.1`);
    bicorn.signal('SIGUSR1');
    await bicorn.waitForLog('the reopen', (l) => l.msg === 'reopening log files');
    // The worker reopens on the master's message: poll until a request lands in the new file.
    await pollUntil('an access line in the reopened file', async () => {
      if (existsSync(accessLog) && readFileSync(accessLog, 'utf8').includes('/after')) return true;
      await get(`${url}/after`);
      return undefined;
    });
    expect((await bicorn.stop()).code).toBe(0);
    expect(readFileSync(`${accessLog}.1`, 'utf8')).toContain('/before');
    expect(readFileSync(`${accessLog}.1`, 'utf8')).not.toContain('/after');
  });
});

describe('the pid file', () => {
  it('is written once the master is ready and removed on exit', async () => {
    const pidFile = join(tempDir('bicorn-control-'), 'run', 'bicorn.pid');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '-p', pidFile, APP]);
    await bicorn.listening();
    expect(readFileSync(pidFile, 'utf8')).toBe(`${String(bicorn.pid)}\n`);
    expect((await bicorn.stop()).code).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('makes a second master refuse to start while the first runs', async () => {
    const pidFile = join(tempDir('bicorn-control-'), 'bicorn.pid');
    const first = new BicornProcess(['-b', '127.0.0.1:0', '-p', pidFile, APP]);
    await first.listening();
    const second = await runBicorn(['-b', '127.0.0.1:0', '-p', pidFile, APP]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^bicorn: error: pid file \\S+ names process ${String(first.pid)}, which is running: is bicorn already running there\\?`));
    expect(readFileSync(pidFile, 'utf8')).toBe(`${String(first.pid)}\n`);
    expect((await first.stop()).code).toBe(0);
  });

  it('replaces a stale file left by a process that is gone', async () => {
    const pidFile = join(tempDir('bicorn-control-'), 'bicorn.pid');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(pidFile, `${gone.stdout}\n`);
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '-p', pidFile, APP]);
    await bicorn.listening();
    expect(readFileSync(pidFile, 'utf8')).toBe(`${String(bicorn.pid)}\n`);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe('a graceful stop', () => {
  it('serves on through shutdown_delay after SIGTERM, with /readyz already 503, then stops', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--shutdown-delay', '1', '--health-bind', '127.0.0.1:0', APP]);
    const url = await bicorn.listening();
    const health = `http://${String((await bicorn.waitForLog('the health endpoints', (l) => l.msg === 'health endpoints listening')).address)}`;
    expect(await get(`${health}/readyz`)).toMatchObject({ status: 200, body: 'ready\n' });
    bicorn.signal('SIGTERM');
    await bicorn.waitForLog('the delay', (l) => l.msg === 'draining: serving on for shutdown_delay, then stopping');
    expect(await get(`${health}/readyz`)).toMatchObject({ status: 503, body: 'draining\n' });
    expect(await get(`${health}/livez`)).toMatchObject({ status: 200, body: 'alive\n' });
    // New connections are still taken and answered during the delay.
    expect((await get(`${url}/`)).status).toBe(200);
    expect(bicorn.lines.some((l) => l.msg === 'stopping')).toBe(false);
    expect((await bicorn.exited).code).toBe(0);
  });

  it('cuts requests still running at graceful_timeout, logs them, and exits 0', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--graceful-timeout', '0.5', APP]);
    const url = await bicorn.listening();
    const slow = get(`${url}/slow?ms=30000`).catch((error: unknown) => error);
    await bicorn.waitForLog('the slow request', (l) => l.msg === 'slow request started');
    bicorn.signal('SIGTERM');
    const cut = await bicorn.waitForLog('the cut', (l) => l.msg === 'requests still running at the graceful timeout; closing them');
    expect(cut).toMatchObject({ level: 40, inFlight: 1 });
    expect(await slow).toBeInstanceOf(Error);
    expect((await bicorn.exited).code).toBe(0);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, runBicorn, type LogLine } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { hasPython, pythonFixtures, servePython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');

describe('JSON log lines', () => {
  it('name the level and give the time in ISO 8601, server and access lines alike', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--access-logfile', '-', APP]);
    const url = await bicorn.listening();
    await get(`${url}/hello`);
    await bicorn.waitForLog('the access line', (l) => l.msg === 'access');
    expect((await bicorn.stop()).code).toBe(0);
    const raw = bicorn.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const listening = raw.find((l) => l.msg === 'listening');
    expect(listening).toMatchObject({ level: 'info', role: 'master' });
    expect(listening?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const access = raw.find((l) => l.msg === 'access');
    expect(access).toMatchObject({ level: 'info', role: 'worker', path: '/hello', status: 200 });
    expect(access?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('use the field names of --log-json-style', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--log-json-style', 'gcp', APP]);
    await bicorn.waitForLog('the listening line', (l) => l.message === 'listening');
    expect((await bicorn.stop()).code).toBe(0);
    const listening = bicorn.stdout.split('\n').map((line) => (line === '' ? {} : (JSON.parse(line) as Record<string, unknown>))).find((l) => l.message === 'listening');
    expect(listening).toMatchObject({ severity: 'INFO', role: 'master' });
    expect(listening).not.toHaveProperty('msg');
  });

  it('give the pretty access line its time', async () => {
    const dir = tempDir('bicorn-logs-');
    const accessLog = join(dir, 'access.log');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--log-format', 'pretty', '--access-logfile', accessLog, APP]);
    await bicorn.waitForLog('the listening line', (l) => l.msg.includes(' listening '));
    const url = `http://${/addresses=\["([^"]+)"\]/.exec(bicorn.stdout)?.[1] ?? ''}`;
    await get(`${url}/hello`);
    const line = await pollUntil('the access line', () => readFileSync(accessLog, 'utf8').split('\n').find((l) => l.includes('/hello')));
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} 127\.0\.0\.1:\d+ "GET \/hello HTTP\/1\.1" 200 \d+ [\d.]+ms$/);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe.skipIf(!hasPython)("the Python app's output", () => {
  it('is one entry per write, traceback or log record, whatever newlines it holds', async () => {
    const bicorn = servePython('noisy_wsgi:application');
    const url = await bicorn.listening();
    // The print comes on the Python process's stdout, READY on its frame socket: the worker may
    // read READY first, so the line can follow 'listening'.
    expect(await bicorn.waitForLog('the print at import', (l) => l.msg === 'noisy_wsgi: loading')).toMatchObject({ level: 30, stream: 'stdout' });
    expect((await get(`${url}/`)).body).toBe('noisy');
    const printed = await bicorn.waitForLog('the two-line print', (l) => l.msg.startsWith('line one'));
    expect(printed).toMatchObject({ level: 30, stream: 'stdout', msg: 'line one\nline two' });
    const fromApp = bicorn.lines.filter((l) => l.stream !== undefined && l.worker !== undefined);
    const traceback = fromApp.find((l) => l.msg.includes("KeyError: 'missing'"));
    expect(traceback).toMatchObject({ level: 40, stream: 'stderr' });
    expect(traceback?.msg).toMatch(/^Traceback \(most recent call last\):\n[\s\S]+\nKeyError: 'missing'$/);
    expect(fromApp.find((l) => l.logger === 'noisy')).toMatchObject({ level: 40, stream: 'stderr', msg: 'cache cold:\n  3 misses' });
    expect(fromApp.find((l) => l.msg.startsWith('Exception in thread doomed'))?.msg).toMatch(/\nZeroDivisionError: division by zero$/);
    // Nothing came line by line: every entry of the app is one of the five above.
    expect(fromApp.map((l) => l.msg.split('\n')[0])).toEqual([
      'noisy_wsgi: loading',
      'Traceback (most recent call last):',
      'cache cold:',
      'Exception in thread doomed:',
      'line one',
    ]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('of an app that fails to load is logged as a failed boot of each worker, not as a stop', async () => {
    const { code, stdout } = await runBicorn(['-w', '2', '-b', '127.0.0.1:0', '--chdir', pythonFixtures, 'broken_import:app']);
    expect(code).toBe(4);
    const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as LogLine & { level: string });
    const failed = lines.filter((l) => l.msg === 'worker failed to boot');
    expect(failed.length).toBeGreaterThan(0);
    for (const line of failed) expect(line).toMatchObject({ level: 'error', code: 4, reason: expect.stringContaining('RuntimeError: DATABASE_URL is not set') as unknown });
    expect(lines.filter((l) => l.msg === 'worker stopped' && l.code !== 0)).toEqual([]);
  });
});

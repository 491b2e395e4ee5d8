import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { startLoad } from './support/load.js';
import { pollUntil } from './support/poll.js';
import { hasPython, noPython, pythonFixtures } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const RELOADS = 10;

const apps = [
  { name: 'a JavaScript app', args: [fixture('apps/fetch.mjs')], python: false },
  { name: 'a Python WSGI app', args: ['--chdir', pythonFixtures, 'hello_wsgi:application'], python: true },
  { name: 'a Python ASGI app', args: ['--chdir', pythonFixtures, 'hello_asgi:app'], python: true },
];

async function answeredAtLeast(answered: () => number, count: number): Promise<void> {
  await pollUntil(() => `${String(count)} answers to the load; it got ${String(answered())}`, () => (answered() >= count ? true : undefined));
}

describe.each(apps)('SIGHUP under load, for $name', ({ args, python }) => {
  it.skipIf(python && !hasPython)(`reloads ${String(RELOADS)} times in a row without losing a request or a connection${python ? noPython : ''}`, async () => {
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', '--graceful-timeout', '10', ...args]);
    const url = await bicorn.listening();
    const load = startLoad(`${url}/`, { concurrency: 8 });
    await answeredAtLeast(load.answered, 20);
    for (let i = 1; i <= RELOADS; i++) {
      const before = load.answered();
      bicorn.signal('SIGHUP');
      await bicorn.waitForLog(`reload ${String(i)}`, (l) => l.msg === 'reloaded' && l.generation === i + 1, 30_000);
      // Each generation serves some of the load before the next reload replaces it.
      await answeredAtLeast(load.answered, before + 20);
    }
    const result = await load.stop();
    expect(result.errors).toEqual({});
    expect(result.failedStatuses).toEqual({});
    // Workers of many generations answered: the reloads really replaced them.
    expect(result.bodies.size).toBeGreaterThan(RELOADS);
    expect(bicorn.lines.filter((l) => l.msg === 'reload failed')).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  }, 120_000);
});

describe('a reload that fails', () => {
  it('keeps the old workers serving when the new config is invalid, and logs why', async () => {
    const dir = tempDir('bicorn-reload-');
    const configFile = join(dir, 'bicorn.config.json');
    writeFileSync(configFile, JSON.stringify({ workers: 1 }));
    const bicorn = new BicornProcess(['-c', configFile, '-b', '127.0.0.1:0', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const before = (await get(`${url}/`)).body;
    writeFileSync(configFile, JSON.stringify({ workers: 'four' }));
    bicorn.signal('SIGHUP');
    const failed = await bicorn.waitForLog('the failed reload', (l) => l.msg.startsWith('reload failed'));
    expect(failed.reason).toMatch(/^invalid configuration: workers \(from \S*bicorn\.config\.json\): expected a positive integer/);
    expect((await get(`${url}/`)).body).toBe(before);

    // Fixed again, the next HUP reloads.
    writeFileSync(configFile, JSON.stringify({ workers: 2 }));
    bicorn.signal('SIGHUP');
    await bicorn.waitForLog('the reload', (l) => l.msg === 'reloaded' && l.workers === 2);
    expect((await get(`${url}/`)).body).not.toBe(before);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('keeps the old workers serving when the new code fails to load', async () => {
    const dir = tempDir('bicorn-reload-');
    const app = join(dir, 'app.mjs');
    writeFileSync(app, "export default { fetch: () => new Response('version 1') };\n");
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', app]);
    const url = await bicorn.listening();
    writeFileSync(app, "throw new Error('broken on purpose');\n");
    bicorn.signal('SIGHUP');
    const failed = await bicorn.waitForLog('the failed reload', (l) => l.msg.startsWith('reload failed'));
    expect(JSON.stringify(failed)).toContain('broken on purpose');
    for (let i = 0; i < 4; i++) expect((await get(`${url}/`)).body).toBe('version 1');

    writeFileSync(app, "export default { fetch: () => new Response('version 2') };\n");
    bicorn.signal('SIGHUP');
    await bicorn.waitForLog('the reload', (l) => l.msg === 'reloaded');
    expect((await get(`${url}/`)).body).toBe('version 2');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)(`keeps the old workers serving when the new Python code fails to import${noPython}`, async () => {
    const dir = tempDir('bicorn-reload-');
    const app = join(dir, 'reloaded_app.py');
    const version = (n: number) => `def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"version ${String(n)}"]\n`;
    writeFileSync(app, version(1));
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', dir, 'reloaded_app:application']);
    const url = await bicorn.listening();
    writeFileSync(app, 'import no_such_module_here\n');
    bicorn.signal('SIGHUP');
    const failed = await bicorn.waitForLog('the failed reload', (l) => l.msg.startsWith('reload failed'));
    expect(JSON.stringify(failed)).toContain('no_such_module_here');
    expect((await get(`${url}/`)).body).toBe('version 1');

    writeFileSync(app, version(2));
    bicorn.signal('SIGHUP');
    await bicorn.waitForLog('the reload', (l) => l.msg === 'reloaded');
    expect((await get(`${url}/`)).body).toBe('version 2');
    expect((await bicorn.stop()).code).toBe(0);
  });
});

// Drop-in for gunicorn and uvicorn, end to end: their environment at its rank, their flags'
// meanings and messages, --check-config loading the app, --factory, --use-colors, and
// gunicorn.conf.py. The corpus of real command lines is dropin-corpus.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, runBicorn } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { hasPython, noPython, pythonFixtures } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');

/** The rows of `bicorn check`: setting → [value, source]. */
function rows(stdout: string): Map<string, [string, string]> {
  const table = new Map<string, [string, string]>();
  for (const line of stdout.split('\n')) {
    const match = /^ {2}(\w+) +(.+?) {2,}(.+)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined && match[3] !== undefined) table.set(match[1], [match[2], match[3]]);
  }
  return table;
}

describe("gunicorn's and uvicorn's environment", () => {
  it('is read below the command line and BICORN_*, and named as the source', async () => {
    const env = {
      GUNICORN_CMD_ARGS: '--workers=3 --timeout 90 --log-level WARNING',
      UVICORN_HOST: '0.0.0.0',
      UVICORN_PORT: '9000',
      UVICORN_TIMEOUT_KEEP_ALIVE: '12',
      WEB_CONCURRENCY: '7',
      PORT: '5000',
      BICORN_TIMEOUT: '45',
    };
    const { code, stdout } = await runBicorn(['check', '--log-level', 'debug', APP], { env });
    expect(code).toBe(0);
    const table = rows(stdout);
    expect(table.get('workers')).toEqual(['3', 'GUNICORN_CMD_ARGS (--workers)']);
    expect(table.get('timeout')).toEqual(['45', 'BICORN_TIMEOUT']);
    expect(table.get('log_level')).toEqual(['"debug"', '--log-level']);
    expect(table.get('bind')).toEqual(['["0.0.0.0:9000"]', 'UVICORN_HOST/UVICORN_PORT']);
    expect(table.get('keep_alive')).toEqual(['12', 'UVICORN_TIMEOUT_KEEP_ALIVE']);
  });

  it("binds 0.0.0.0:$PORT when nothing else names an address, as gunicorn does", async () => {
    const { code, stdout } = await runBicorn(['check', APP], { env: { PORT: '5000', WEB_CONCURRENCY: '2' } });
    expect(code).toBe(0);
    expect(rows(stdout).get('bind')).toEqual(['["0.0.0.0:5000"]', 'PORT']);
    expect(rows(stdout).get('workers')).toEqual(['2', 'WEB_CONCURRENCY']);
  });

  it('says which variable held a flag that is refused', async () => {
    const { code, stderr } = await runBicorn(['check', APP], { env: { GUNICORN_CMD_ARGS: '--paste production.ini' } });
    expect(code).toBe(2);
    expect(stderr).toMatch(/GUNICORN_CMD_ARGS: --paste is not supported: bicorn does not read PasteDeploy files; instead, /);
  });
});

describe('flags with no effect', () => {
  it('are accepted, each with one line saying why, in bicorn check and at start', async () => {
    const { code, stdout } = await runBicorn(['check', '--worker-tmp-dir', '/dev/shm', '--preload', APP]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nnote: --worker-tmp-dir has no effect: workers answer the master's heartbeat over IPC, with no files\n/);
    expect(stdout).toMatch(/\nnote: --preload has no effect: /);
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--worker-tmp-dir', '/dev/shm', APP]);
    await bicorn.listening();
    expect(bicorn.lines.filter((l) => l.msg.includes('--worker-tmp-dir'))).toMatchObject([{ level: 30, role: 'master' }]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe("uvicorn's booleans", () => {
  it('keep their meaning: --access-log is stdout and takes no value, --use-colors colours', async () => {
    // The issue's example: --access-log once took --use-colors as a file name.
    const on = rows((await runBicorn(['check', '--access-log', '--use-colors', APP])).stdout);
    expect(on.get('access_log')).toEqual(['"-"', '--access-log']);
    expect(on.get('use_colors')).toEqual(['true', '--use-colors']);
    const off = rows((await runBicorn(['check', '--no-access-log', '--no-use-colors', APP])).stdout);
    expect(off.get('access_log')).toEqual(['null', '--no-access-log']);
    expect(off.get('use_colors')).toEqual(['false', '--no-use-colors']);
    const file = rows((await runBicorn(['check', '--access-log', '--access-logfile', 'access.log', APP])).stdout);
    expect(file.get('access_log')).toEqual(['"access.log"', '--access-logfile']);
    const deflate = rows((await runBicorn(['check', '--ws-per-message-deflate', 'false', APP])).stdout);
    expect(deflate.get('ws_per_message_deflate')).toEqual(['false', '--no-ws-per-message-deflate']);
  });

  it('--use-colors colours the pretty log even off a terminal, and --no-use-colors does not', async () => {
    const ansi = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`);
    const coloured = new BicornProcess(['-b', '127.0.0.1:0', '--log-format', 'pretty', '--use-colors', APP]);
    await coloured.waitForLog('the listening line', () => coloured.stdout.includes(' listening '));
    expect(coloured.stdout).toMatch(ansi);
    expect((await coloured.stop()).code).toBe(0);
    const plain = new BicornProcess(['-b', '127.0.0.1:0', '--log-format', 'pretty', '--no-use-colors', APP]);
    await plain.waitForLog('the listening line', () => plain.stdout.includes(' listening '));
    expect(plain.stdout).not.toMatch(ansi);
    expect((await plain.stop()).code).toBe(0);
  });
});

describe('messages for command lines that went wrong', () => {
  it('names an empty variable that left an option without its value', async () => {
    const { code, stderr } = await runBicorn(['-w', '-b', '0.0.0.0:8000', 'app:app']);
    expect(code).toBe(2);
    expect(stderr).toBe('bicorn: error: -w needs a value, but the next word is the option -b: is a variable empty, as in -w $WORKERS? Give -w a value, or leave it out; see bicorn --help\n');
  });

  it('suggests the sub-command a typo meant, and names the commands for bicorn help', async () => {
    const typo = await runBicorn(['chek']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^bicorn: error: unknown command 'chek'; did you mean 'check'\?/);
    const help = await runBicorn(['help', 'nosuch']);
    expect(help.code).toBe(2);
    expect(help.stderr).toMatch(/^bicorn: error: unknown command 'nosuch'; the commands are serve \(the default\), check, systemd, status, reload, stop, scale and reopen-logs/);
  });

  it("takes gunicorn's tcp:// addresses", async () => {
    const { code, stdout } = await runBicorn(['check', '-b', 'tcp://127.0.0.1:9000', APP]);
    expect(code).toBe(0);
    expect(rows(stdout).get('bind')).toEqual(['["tcp://127.0.0.1:9000"]', '--bind']);
  });
});

describe('gunicorn.conf.py', () => {
  it('given with -c, is refused with what to do until issue 18 reads it', async () => {
    const cwd = tempDir('bicorn-gunicorn-conf-');
    writeFileSync(join(cwd, 'gunicorn.conf.py'), 'workers = 4\n');
    const { code, stderr } = await runBicorn(['check', '-c', 'gunicorn.conf.py', APP], { cwd });
    expect(code).toBe(2);
    expect(stderr).toBe(
      "bicorn: error: invalid configuration: -c gunicorn.conf.py: gunicorn's Python config files are not read yet (they come with issue 18), and bicorn's own end in .json, .yaml, .yml, .js, .mjs or .cjs; give its settings as flags (gunicorn's names work, see docs/dropin.md), in GUNICORN_CMD_ARGS, or in a bicorn.config.mjs\n",
    );
    expect((await runBicorn(['check', '-c', 'python:settings.gunicorn', APP], { cwd })).stderr).toMatch(/-c python:settings\.gunicorn: gunicorn's Python config files are not read yet/);
    expect((await runBicorn(['check', '-c', 'gunicorn.conf', APP], { cwd })).stderr).toMatch(/-c gunicorn\.conf: gunicorn's Python config files are not read yet/);
  });

  it('found in the working directory, as gunicorn would read it, gets a warning at start', async () => {
    const cwd = tempDir('bicorn-gunicorn-conf-');
    writeFileSync(join(cwd, 'gunicorn.conf.py'), 'workers = 4\n');
    const { code, stdout } = await runBicorn(['check', APP], { cwd });
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nwarning: \.\/gunicorn\.conf\.py is not read \(gunicorn reads it by default; bicorn will with issue 18\), so its settings do not apply/);
  });
});

describe('--check-config and bicorn check --load-app', () => {
  it('load a JavaScript app once and say what it is', async () => {
    const { code, stdout } = await runBicorn(['--check-config', APP]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\napp .*fetch\.mjs loads: a JavaScript fetch app\n$/);
  });

  it('exit 4 with the error when the app fails to load', async () => {
    const { code, stderr } = await runBicorn(['check', '--load-app', fixture('apps/throws.mjs')]);
    expect(code).toBe(4);
    expect(stderr).toMatch(/^bicorn: error: app .*throws\.mjs failed to load:/);
  });

  it.skipIf(!hasPython)(`load a Python app in a helper process, and exit 4 with its traceback when it fails${noPython}`, async () => {
    const loads = await runBicorn(['--check-config', '--chdir', pythonFixtures, 'hello_wsgi:application']);
    expect(loads.code).toBe(0);
    expect(loads.stdout).toMatch(/\napp hello_wsgi:application loads: a WSGI app \(Python 3\.\d+\.\d+, .+\)\n$/);
    const fails = await runBicorn(['--check-config', '--chdir', pythonFixtures, 'broken_import:application']);
    expect(fails.code).toBe(4);
    expect(fails.stderr).toMatch(/^bicorn: error: app broken_import:application failed to load:\n[\s\S]*RuntimeError: DATABASE_URL is not set/);
  });

  it.skipIf(!hasPython)(`name the interpreter, and how to choose another, when a package the app needs is missing${noPython}`, async () => {
    const cwd = tempDir('bicorn-interpreter-');
    writeFileSync(join(cwd, 'site_app.py'), 'import django_not_installed_here\n');
    const { code, stderr } = await runBicorn(['check', '--load-app', 'site_app:application'], { cwd });
    expect(code).toBe(4);
    expect(stderr).toMatch(/ModuleNotFoundError: No module named 'django_not_installed_here'\n'django_not_installed_here' is not installed for \/\S+ \(Python 3\.\d+\.\d+\), the interpreter that ran the app: if the project's packages are in a virtualenv, activate it before starting bicorn, or name its Python with --python \/path\/to\/venv\/bin\/python/);
  });
});

describe.skipIf(!hasPython)(`uvicorn's --factory${noPython}`, () => {
  it('calls the factory without arguments and serves what it made', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, '--factory', 'factory_app:create_app']);
    const url = await bicorn.listening();
    expect(await get(`${url}/`)).toMatchObject({ status: 200, body: 'made by the factory' });
    expect(bicorn.lines.filter((l) => l.msg.includes('app factory'))).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('calls a function that takes no arguments even without it, saying so, as uvicorn does', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', pythonFixtures, 'factory_app:create_app']);
    const url = await bicorn.listening();
    expect(await get(`${url}/`)).toMatchObject({ status: 200, body: 'made by the factory' });
    expect(bicorn.lines.find((l) => l.msg.includes('takes no arguments, so it cannot be the app'))?.msg).toMatch(/pass --factory to say so/);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

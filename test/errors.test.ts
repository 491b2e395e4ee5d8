import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runBicorn } from './support/bicorn-process.js';
import { hasPython, noPython } from './support/python.js';
import { skipped } from './support/skip.js';
import { tempDir } from './support/temp-dir.js';

/** A Python 3.8, where pyenv has one (as on this project's machines). */
const oldPython = ['python3.8', join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions', '3.8.18', 'bin', 'python3')].find(
  (python) => spawnSync(python, ['-c', 'import sys; assert sys.version_info[:2] == (3, 8)']).status === 0,
);

function dirWith(files: Record<string, string>): string {
  const dir = tempDir('bicorn-test-');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** One readable line on stderr, no stack trace, nothing on stdout. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^bicorn: error: /);
  return lines[0] ?? '';
}

describe('user errors', () => {
  it('a bad config file value gives exit 2 and one line naming the file', async () => {
    const cwd = dirWith({ 'bicorn.config.json': JSON.stringify({ workers: 'four' }) });
    const { code, stderr } = await runBicorn([fixture('apps/fetch.mjs')], { cwd });
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toBe(
      'bicorn: error: invalid configuration: workers (from bicorn.config.json): expected a positive integer or "auto", got "four"',
    );
  });

  it('a config file that does not parse gives exit 2', async () => {
    const cwd = dirWith({ '.bicornrc.json': '{ "workers": ' });
    const { code, stderr } = await runBicorn([fixture('apps/fetch.mjs')], { cwd });
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toBe(
      'bicorn: error: cannot read config file .bicornrc.json: Unexpected end of JSON input while parsing "{ \\"workers\\": "; fix the file or pass another with -c',
    );
  });

  it('a bad environment value gives exit 2 and one line naming the variable', async () => {
    const { code, stderr } = await runBicorn([fixture('apps/fetch.mjs')], { env: { BICORN_KEEP_ALIVE: 'forever' } });
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toMatch(/^bicorn: error: invalid configuration: keep_alive \(from BICORN_KEEP_ALIVE\): expected a duration/);
  });

  it('an unknown flag gives exit 2 and a suggestion', async () => {
    const { code, stderr } = await runBicorn(['--wrkers', '2', fixture('apps/fetch.mjs')]);
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toMatch(/unknown option '--wrkers'.*Did you mean --workers\?/);
  });

  it('a bad flag value gives exit 2 naming the flag', async () => {
    const { code, stderr } = await runBicorn(['-w', '0', fixture('apps/fetch.mjs')]);
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toBe('bicorn: error: invalid configuration: workers (from --workers): expected a positive integer or "auto", got "0"');
  });

  it('a missing app file gives exit 4', async () => {
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', './no/such/app.mjs']);
    expect(code).toBe(4);
    expect(expectOneLine(stderr)).toMatch(/^bicorn: error: app \.\/no\/such\/app\.mjs: no file at .*no\/such\/app\.mjs/);
  });

  it("an app that throws at import gives exit 4 with the app's own error", async () => {
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', fixture('apps/throws.mjs')]);
    expect(code).toBe(4);
    expect(stderr).toMatch(/^bicorn: error: app .*throws\.mjs failed to load:\nError: the database URL is not set\n/);
  });

  it('an export that is not an app gives exit 4 naming what was found', async () => {
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', fixture('apps/not-an-app.mjs')]);
    expect(code).toBe(4);
    expect(expectOneLine(stderr)).toMatch(/not-an-app\.mjs/);
  });

  it.skipIf(!hasPython)(`a Python module that cannot be found gives exit 4, saying where bicorn looked${noPython}`, async () => {
    const cwd = dirWith({});
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', 'no_such_module_here:application'], { cwd });
    expect(code).toBe(4);
    expect(stderr).toMatch(/^bicorn: error: app no_such_module_here:application failed to load:\nNo module named 'no_such_module_here': bicorn looked in /);
    expect(stderr).toContain(cwd);
    expect(stderr).toMatch(/point --chdir or --pythonpath at it\n$/);
  });

  it('a missing Python interpreter gives exit 2 naming what was tried', async () => {
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', '--python', '/no/such/python3', 'mysite.wsgi:application']);
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toBe(
      'bicorn: error: no usable Python interpreter: tried --python /no/such/python3, not found; install Python 3.9 or newer, or name one with --python',
    );
  });

  it.skipIf(oldPython === undefined)(`a Python older than 3.9 gives exit 2 naming its version${skipped(oldPython === undefined, 'no Python older than 3.9 on this machine')}`, async () => {
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', '--python', oldPython ?? '', 'mysite.wsgi:application']);
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toMatch(/^bicorn: error: no usable Python interpreter: tried --python .*, it is Python 3\.8\.\d+; bicorn needs 3\.9 or newer/);
  });

  it('a setting that needs another gives exit 2 naming both', async () => {
    const { code, stderr } = await runBicorn(['--http-protocols', 'h2', fixture('apps/fetch.mjs')]);
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toMatch(/http_protocols \(from --http-protocols\): HTTP\/2 alone needs TLS \(certfile and keyfile\) or http2_cleartext prior-knowledge/);
  });

  it('no app at all gives exit 2', async () => {
    const { code, stderr } = await runBicorn([], { cwd: dirWith({}) });
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toMatch(/no app given/);
  });

  it.each([
    ['--error-logfile', 'error_log'],
    ['--access-logfile', 'access_log'],
  ])('a log file that cannot be opened (%s) gives exit 2 naming the setting', async (flag, setting) => {
    const dir = dirWith({ 'a-file': '' });
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', flag, join(dir, 'a-file', 'x.log'), fixture('apps/fetch.mjs')]);
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toBe(
      `bicorn: error: cannot open ${join(dir, 'a-file', 'x.log')} for ${setting}: a part of the path is a file, not a directory; choose a writable file, or - for stdout`,
    );
  });

  it('a port in use gives exit 2 naming the address', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as { port: number };
      const { code, stderr } = await runBicorn(['-b', `127.0.0.1:${String(port)}`, fixture('apps/fetch.mjs')]);
      expect(code).toBe(2);
      expect(expectOneLine(stderr)).toBe(
        `bicorn: error: cannot bind 127.0.0.1:${String(port)}: the address is already in use (is another server running there?) (EADDRINUSE); choose another address with -b`,
      );
    } finally {
      blocker.close();
    }
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixtures } from './fixtures.js';

const run = promisify(execFile);
// vitest imports app modules through its own module runner; this child imports the built
// package with node's own loader, as a worker does.
const dist = new URL('../dist/index.js', import.meta.url).href;
const script = `
const { loadJsApp } = await import(process.argv[1]);
const log = { error() {}, warn() {}, debug() {} };
const out = {};
for (const app of process.argv.slice(2)) {
  try {
    out[app] = (await loadJsApp({ app, interface: 'auto', cwd: process.cwd(), rootPath: '', log })).interface;
  } catch (error) {
    out[app] = error.code + ': ' + error.message;
  }
}
process.stdout.write(JSON.stringify(out));
`;

describe('loading with node’s own module loader (built package)', () => {
  it('detects interfaces, reads .cjs defaults and reports import failures the same way', async () => {
    const apps = ['asgi-echo.mjs', 'fetch-object.mjs', 'express-style.cjs', 'commonjs-named.cjs:handler', 'throws-on-import.mjs'];
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, dist, ...apps], {
      cwd: fixtures,
      timeout: 20_000,
    });
    const result = JSON.parse(stdout) as Record<string, string>;
    expect(result).toMatchObject({
      'asgi-echo.mjs': 'asgi',
      'fetch-object.mjs': 'fetch',
      'express-style.cjs': 'node',
      'commonjs-named.cjs:handler': 'fetch',
    });
    expect(result['throws-on-import.mjs']).toMatch(/^APP_IMPORT_FAILED: app throws-on-import\.mjs failed to load:\nError: fixture exploded while importing\n\s+at .*throws-on-import\.mjs:2/);
  });
});

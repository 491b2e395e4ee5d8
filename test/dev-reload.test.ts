import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess } from './support/bicorn-process.js';
import { get, type Answer } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { hasPython, noPython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

/** Polls until the app's answer matches; the reload happens in the background. */
async function untilAnswer(url: string, match: (status: number, body: string) => boolean): Promise<Answer> {
  let last: Answer | undefined;
  return pollUntil(
    () => `a matching answer from ${url}; the last was ${last === undefined ? 'none' : `${String(last.status)} ${last.body}`}`,
    async () => {
      last = await get(url);
      return match(last.status, last.body) ? last : undefined;
    },
    20_000,
    50,
  );
}

describe('--reload', () => {
  it('reloads a JavaScript app when its file changes, and shows a load error as a 500 until it is fixed', async () => {
    const dir = tempDir('bicorn-dev-');
    const app = join(dir, 'app.mjs');
    writeFileSync(app, "export default { fetch: () => new Response('version 1') };\n");
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--reload', app]);
    const url = await bicorn.listening();
    const watching = await bicorn.waitForLog('the watcher', (l) => l.msg === 'watching for file changes');
    expect(watching.folders).toEqual([dir]);

    writeFileSync(app, "throw new Error('typo in the app');\n");
    const changed = await bicorn.waitForLog('the change', (l) => l.msg === 'files changed; reloading');
    expect(changed.files).toEqual([app]);
    const broken = await untilAnswer(`${url}/`, (status) => status === 500);
    expect(broken.body).toContain('typo in the app');

    writeFileSync(app, "export default { fetch: () => new Response('version 2') };\n");
    await untilAnswer(`${url}/`, (status, body) => status === 200 && body === 'version 2');
    // Files that do not match the include globs change nothing.
    const reloads = bicorn.lines.filter((l) => l.msg === 'files changed; reloading').length;
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'dep.js'), '');
    writeFileSync(app, "export default { fetch: () => new Response('version 3') };\n");
    await untilAnswer(`${url}/`, (status, body) => status === 200 && body === 'version 3');
    expect(bicorn.lines.filter((l) => l.msg === 'files changed; reloading').slice(reloads).map((l) => l.files)).toEqual([[app]]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('does not reload for files in a static directory, which the workers see change by themselves', async () => {
    const dir = tempDir('bicorn-dev-');
    const app = join(dir, 'app.mjs');
    writeFileSync(app, "export default { fetch: () => new Response('version 1') };\n");
    mkdirSync(join(dir, 'staticfiles'));
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--reload', '--chdir', dir, '--static', '/static/=staticfiles', app]);
    const url = await bicorn.listening();
    await bicorn.waitForLog('the watcher', (l) => l.msg === 'watching for file changes');
    writeFileSync(join(dir, 'staticfiles', 'app.js'), 'console.log(1);\n');
    await untilAnswer(`${url}/static/app.js`, (status, body) => status === 200 && body === 'console.log(1);\n');
    writeFileSync(app, "export default { fetch: () => new Response('version 2') };\n");
    await untilAnswer(`${url}/`, (status, body) => status === 200 && body === 'version 2');
    expect(bicorn.lines.filter((l) => l.msg === 'files changed; reloading').map((l) => l.files)).toEqual([[app]]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)(`starts with a Python app that fails to import, answering 500 with its traceback, and serves it once fixed${noPython}`, async () => {
    const dir = tempDir('bicorn-dev-');
    writeFileSync(join(dir, 'devapp.py'), 'import no_such_module_anywhere\n');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--reload', '--reload-include', '*.html', '--chdir', dir, 'devapp:application']);
    const url = await bicorn.listening();
    await bicorn.waitForLog('the watcher', (l) => l.msg === 'watching for file changes');
    const broken = await get(`${url}/`);
    expect(broken.status).toBe(500);
    expect(broken.body).toContain("ModuleNotFoundError: No module named 'no_such_module_anywhere'");

    writeFileSync(join(dir, 'devapp.py'), 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"fixed"]\n');
    await untilAnswer(`${url}/`, (status, body) => status === 200 && body === 'fixed');
    // --reload-include adds to the default globs.
    writeFileSync(join(dir, 'page.html'), '<p>hi</p>');
    const changed = await bicorn.waitForLog('the template change', (l) => l.msg === 'files changed; reloading' && JSON.stringify(l.files).includes('page.html'));
    expect(changed.files).toEqual([join(dir, 'page.html')]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("reloads when a --reload-extra-file changes, wherever it is and whatever its name, as gunicorn does", async () => {
    const dir = tempDir('bicorn-dev-');
    const elsewhere = tempDir('bicorn-dev-extra-');
    const settings = join(elsewhere, 'settings.ini');
    writeFileSync(join(dir, 'app.mjs'), "export default { fetch: () => new Response('ok') };\n");
    writeFileSync(settings, 'debug = false\n');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--reload', '--reload-extra-file', settings, join(dir, 'app.mjs')]);
    await bicorn.listening();
    const watching = await bicorn.waitForLog('the watcher', (l) => l.msg === 'watching for file changes');
    expect(watching.files).toEqual([settings]);
    writeFileSync(settings, 'debug = true\n');
    const changed = await bicorn.waitForLog('the change', (l) => l.msg === 'files changed; reloading');
    expect(changed.files).toEqual([settings]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

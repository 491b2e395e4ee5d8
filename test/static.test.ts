import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, repoRoot, runBicorn } from './support/bicorn-process.js';
import { get, post } from './support/http.js';
import { hasPython, pythonFixtures } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const CSS = 'body { color: #333 }\n'.repeat(100);

/** A working directory with public/app.css, for `--chdir DIR --static /static/=public`. */
function project(): string {
  const dir = tempDir('bicorn-static-e2e-');
  mkdirSync(join(dir, 'public'));
  writeFileSync(join(dir, 'public', 'app.css'), CSS);
  return dir;
}

interface Case {
  readonly label: string;
  /** What the app's answers start with. */
  readonly answer: string;
  readonly app: string;
  readonly extra: readonly string[];
}

const python = ['--pythonpath', pythonFixtures];
const cases: Case[] = [
  { label: 'JavaScript ASGI', answer: 'asgi', app: fixture('apps/asgi.mjs'), extra: [] },
  { label: 'fetch', answer: 'fetch', app: fixture('apps/fetch.mjs'), extra: [] },
  { label: 'Node listener', answer: 'node', app: fixture('apps/node.mjs:app'), extra: [] },
  ...(hasPython
    ? [
        { label: 'WSGI', answer: 'wsgi', app: 'hello_wsgi:application', extra: python },
        { label: 'Python ASGI', answer: 'asgi', app: 'hello_asgi:app', extra: python },
      ]
    : []),
];

describe('static files served by the worker', () => {
  it.each(cases)('serves them before a $label app, which gets misses, other methods and other paths', async ({ answer, app, extra }) => {
    const dir = project();
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', dir, '--static', '/static/=public', '--access-logfile', '-', ...extra, app]);
    const url = await bicorn.listening();
    const file = await get(`${url}/static/app.css`);
    expect(file.status).toBe(200);
    expect(file.body).toBe(CSS);
    expect(file.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(`${url}/static/missing.css`)).body).toMatch(new RegExp(`^${answer} \\d+$`));
    expect((await post(`${url}/static/app.css`, 'x')).body).toMatch(new RegExp(`^${answer} \\d+$`));
    expect((await get(`${url}/`)).body).toMatch(new RegExp(`^${answer} \\d+$`));
    expect((await get(`${url}/static/app.css%00.txt`)).status).toBe(400);
    await bicorn.waitForLog('the last access line', (l) => l.msg === 'access' && l.status === 400);
    const lines = bicorn.lines.filter((l) => l.msg === 'access');
    expect(lines.map((l) => [l.method, l.path, l.status, l.static ?? false])).toEqual([
      ['GET', '/static/app.css', 200, true],
      ['GET', '/static/missing.css', 200, false],
      ['POST', '/static/app.css', 200, false],
      ['GET', '/', 200, false],
      ['GET', '/static/app.css%00.txt', 400, true],
    ]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('takes off the root path a trusted proxy forwards (X-Forwarded-Prefix) before matching, as root_path', async () => {
    const dir = project();
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', dir, '--static', '/static/=public', '--forwarder-headers', 'x-forwarded-prefix', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const fetchWith = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request(`${url}${path}`, { headers, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    // The proxy kept its prefix on the path: the file is found under it, for this request only.
    expect(await fetchWith('/shop/static/app.css', { 'X-Forwarded-Prefix': '/shop' })).toEqual({ status: 200, body: CSS });
    expect(await fetchWith('/static/app.css', { 'X-Forwarded-Prefix': '/shop' })).toEqual({ status: 200, body: CSS });
    expect((await fetchWith('/shop/static/app.css', {})).body).toMatch(/^fetch \d+$/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('will not start when a static directory does not exist (exit 2, naming it)', async () => {
    const dir = project();
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', '--chdir', dir, '--static', '/static/=staticfiles', fixture('apps/fetch.mjs')]);
    expect(code).toBe(2);
    expect(stderr).toContain(`static /static/=staticfiles: ${join(dir, 'staticfiles')} does not exist; run collectstatic (or create it), or fix the directory in static (it is relative to chdir)`);
  });

  it('cuts a static response whose client stopped reading, by the request timeout, and keeps the worker', async () => {
    const dir = project();
    writeFileSync(join(dir, 'public', 'big.bin'), Buffer.alloc(64 * 1024 * 1024));
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--chdir', dir, '--static', '/static/=public', '--request-timeout', '0.5', fixture('apps/fetch.mjs')]);
    const url = new URL(await bicorn.listening());
    const socket = connect(Number(url.port), url.hostname);
    socket.pause(); // never reads: the worker's writes stop once the buffers are full
    socket.write('GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    const cut = await bicorn.waitForLog('the cut', (l) => l.msg === 'request timed out mid-response; cutting the connection');
    expect(cut.path).toBe('/static/big.bin');
    socket.destroy();
    expect((await get(`${url.origin}/static/app.css`)).body).toBe(CSS);
    expect(bicorn.lines.filter((l) => l.msg.startsWith('recycling'))).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

// The pinned Django and WhiteNoise live in the repo's virtualenv, made by `pnpm python:setup`.
const venvPython = join(repoRoot, '.venv', 'bin', 'python');
const hasDjango = spawnSync(venvPython, ['-c', 'import django, whitenoise']).status === 0;
const recipe = hasDjango ? "Django's collectstatic output served with --static" : "Django's collectstatic output served with --static (skipped: no Django or WhiteNoise in .venv; run `pnpm python:setup`)";

describe.skipIf(!hasDjango)(recipe, () => {
  it('serves the hashed names Django links to with a long cache and their .gz, and leaves misses to Django', async () => {
    const staticRoot = tempDir('bicorn-staticfiles-');
    const env = { PATH: process.env.PATH ?? '', DJANGO_SETTINGS_MODULE: 'mysite.settings_static', STATIC_ROOT: staticRoot };
    const collected = spawnSync(venvPython, ['manage.py', 'collectstatic', '--noinput', '-v0'], { cwd: fixture('django_project'), env, encoding: 'utf8' });
    expect(collected.stderr).toBe('');
    expect(collected.status).toBe(0);
    const bicorn = new BicornProcess([
      '-b', '127.0.0.1:0', '--python', venvPython, '--chdir', fixture('django_project'),
      '-e', 'DJANGO_SETTINGS_MODULE=mysite.settings_static', '-e', `STATIC_ROOT=${staticRoot}`,
      '--static', `/static/=${staticRoot}`, 'mysite.wsgi:application',
    ]);
    const url = await bicorn.listening();
    const link = (await get(`${url}/static-link/`)).body;
    expect(link).toMatch(/^\/static\/css\/site\.[0-9a-f]{12}\.css$/);
    const hashed = await get(`${url}${link}`);
    expect(hashed.status).toBe(200);
    expect(hashed.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(hashed.body).toMatch(/url\("\.\.\/img\/dot\.[0-9a-f]{12}\.png"\)/);
    const gzipped = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
      socket.end(`GET ${link} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`);
    });
    const split = gzipped.indexOf('\r\n\r\n');
    const head = gzipped.subarray(0, split).toString('latin1');
    expect(head).toMatch(/\r\ncontent-encoding: gzip\r\n/i);
    expect(head).toMatch(/\r\nvary: Accept-Encoding\r\n/i);
    expect(gunzipSync(gzipped.subarray(split + 4)).toString()).toBe(hashed.body);
    expect((await get(`${url}/static/css/site.css`)).headers['cache-control']).toBe('public, max-age=60');
    const miss = await get(`${url}/static/css/nope.css`);
    expect(miss.status).toBe(404);
    expect(miss.headers['content-type']).toBe('text/html; charset=utf-8'); // Django's own 404 page
    expect((await bicorn.stop()).code).toBe(0);
  });
});

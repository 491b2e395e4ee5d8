import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { recordingLog, send, startServer, type ClientRequest, type TestServer } from '@bicorn/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StaticFiles, type StaticOptions } from '../src/index.js';

const servers: TestServer[] = [];
let dir: string;
let root: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bicorn-static-'));
  root = join(dir, 'staticfiles');
  mkdirSync(join(root, 'css'), { recursive: true });
  writeFileSync(join(root, 'css', 'app.css'), 'body { color: red }\n'.repeat(100));
  writeFileSync(join(dir, 'settings.py'), 'SECRET_KEY = "x"\n');
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A static server in front of an app that answers `app: METHOD URL`; `answered` records who answered. */
async function serve(options: Partial<StaticOptions> = {}) {
  const { log, entries } = recordingLog();
  const statics = new StaticFiles({
    mounts: [{ prefix: '/static/', directory: 'staticfiles' }],
    cwd: dir,
    rootPath: '',
    maxAgeS: 60,
    hashedMaxAgeS: 31_536_000,
    cors: null,
    followSymlinks: false,
    log,
    ...options,
  });
  const answered: boolean[] = [];
  const listener = statics.inFrontOf((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`app: ${req.method ?? ''} ${req.url ?? ''}`);
  });
  const server = await startServer((req: IncomingMessage, res) => {
    res.on('close', () => answered.push(statics.answered(req)));
    listener(req, res);
  });
  servers.push(server);
  const get = (path: string, request: ClientRequest = {}) => send(server.port, { path, ...request });
  return { get, entries, answered };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never saw ${what}`);
}

describe('static files from a directory', () => {
  it('serves a file with its type, length, validators, cache and nosniff; HEAD without the body', async () => {
    const { get, answered } = await serve();
    const res = await get('/static/css/app.css?v=1');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('body { color: red }\n'.repeat(100));
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.headers['content-length']).toBe('2000');
    expect(res.headers.etag).toMatch(/^"7d0-[0-9a-f]+"$/);
    expect(res.headers['last-modified']).toMatch(/GMT$/);
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['accept-ranges']).toBe('bytes');
    const head = await get('/static/css/app.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('2000');
    expect(head.body.length).toBe(0);
    expect(answered).toEqual([true, true]);
  });

  it('streams a large file, and a range of it', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    writeFileSync(join(root, 'photo.jpg'), big);
    const { get } = await serve();
    const whole = await get('/static/photo.jpg');
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('image/jpeg');
    expect(whole.body.equals(big)).toBe(true);
    const part = await get('/static/photo.jpg', { headers: { range: 'bytes=1048570-2097160' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1048570-2097160/${String(big.length)}`);
    expect(part.body.equals(big.subarray(1048570, 2097161))).toBe(true);
    const suffix = await get('/static/photo.jpg', { headers: { range: 'bytes=-10' } });
    expect(suffix.body.equals(big.subarray(big.length - 10))).toBe(true);
    const head = await get('/static/photo.jpg', { method: 'HEAD' });
    expect(head.headers['content-length']).toBe(String(big.length));
    expect(head.body.length).toBe(0);
  });

  it('answers ranges of a small file: 206, 416, and the whole file for several ranges', async () => {
    const { get } = await serve();
    const part = await get('/static/css/app.css', { headers: { range: 'bytes=7-11' } });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe('color');
    const beyond = await get('/static/css/app.css', { headers: { range: 'bytes=5000-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe('bytes */2000');
    const several = await get('/static/css/app.css', { headers: { range: 'bytes=0-1,5-6' } });
    expect(several.status).toBe(200);
    expect(several.body.length).toBe(2000);
  });

  it('answers 304 to If-None-Match and If-Modified-Since, and honours If-Range', async () => {
    const { get } = await serve();
    const first = await get('/static/css/app.css');
    const etag = String(first.headers.etag);
    const lastModified = String(first.headers['last-modified']);
    const byTag = await get('/static/css/app.css', { headers: { 'if-none-match': etag } });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect(byTag.headers.etag).toBe(etag);
    expect((await get('/static/css/app.css', { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    expect((await get('/static/css/app.css', { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    expect((await get('/static/css/app.css', { headers: { range: 'bytes=0-3', 'if-range': etag } })).status).toBe(206);
    expect((await get('/static/css/app.css', { headers: { range: 'bytes=0-3', 'if-range': '"old"' } })).status).toBe(200);
  });

  it('sends the .br or .gz sibling by Accept-Encoding, with Vary, and ranges from the plain file', async () => {
    const css = Buffer.from('body { color: red }\n'.repeat(100));
    writeFileSync(join(root, 'css', 'app.css.br'), brotliCompressSync(css));
    writeFileSync(join(root, 'css', 'app.css.gz'), gzipSync(css));
    const { get } = await serve();
    const brotli = await get('/static/css/app.css', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(brotli.headers['content-encoding']).toBe('br');
    expect(brotli.headers.vary).toBe('Accept-Encoding');
    expect(brotli.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(brotli.body.equals(brotliCompressSync(css))).toBe(true);
    const gzip = await get('/static/css/app.css', { headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.body.equals(gzipSync(css))).toBe(true);
    const plain = await get('/static/css/app.css');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.body.equals(css)).toBe(true);
    const ranged = await get('/static/css/app.css', { headers: { 'accept-encoding': 'br', range: 'bytes=0-3' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-encoding']).toBeUndefined();
    expect(ranged.body.toString()).toBe('body');
  });

  it('ignores a sibling older than the file (a stale .gz left behind)', async () => {
    writeFileSync(join(root, 'css', 'app.css.gz'), gzipSync('old'));
    utimesSync(join(root, 'css', 'app.css.gz'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const { get } = await serve();
    const res = await get('/static/css/app.css', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.length).toBe(2000);
  });

  it('passes misses, directories and methods other than GET and HEAD to the app', async () => {
    const { get, answered } = await serve();
    expect((await get('/static/missing.css')).body.toString()).toBe('app: GET /static/missing.css');
    expect((await get('/static/css/')).body.toString()).toBe('app: GET /static/css/');
    expect((await get('/static/css')).body.toString()).toBe('app: GET /static/css');
    expect((await get('/static/')).body.toString()).toBe('app: GET /static/');
    expect((await get('/static/css/app.css', { method: 'POST', body: 'x' })).body.toString()).toBe('app: POST /static/css/app.css');
    expect((await get('/static/css/app.css', { method: 'OPTIONS' })).body.toString()).toBe('app: OPTIONS /static/css/app.css');
    expect((await get('/other/app.css')).body.toString()).toBe('app: GET /other/app.css');
    expect(answered.every((served) => !served)).toBe(true);
  });

  it('refuses every way out of the directory with 400, never reaching the app', async () => {
    const { get } = await serve();
    for (const path of ['/static/../settings.py', '/static/%2e%2e/settings.py', '/static/css/%2E%2E/%2e%2e/settings.py', '/static/..%2fsettings.py', '/static/..\\settings.py', '/static/css%5c..%5c..%5csettings.py', '/static/css/app.css%00.png', '/static/%ff']) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.toString(), path).toBe('Bad Request\n');
    }
  });

  it('refuses dot files with 404 but serves /.well-known/', async () => {
    writeFileSync(join(root, '.env'), 'SECRET=1\n');
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'config'), '[core]\n');
    mkdirSync(join(root, '.well-known', 'acme-challenge'), { recursive: true });
    writeFileSync(join(root, '.well-known', 'acme-challenge', 'token'), 'token.key\n');
    const { get } = await serve({ mounts: [{ prefix: '/', directory: 'staticfiles' }] });
    for (const path of ['/.env', '/.git/config', '/%2eenv', '/css/.env']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString(), path).toBe('Not Found\n');
    }
    expect((await get('/.well-known/acme-challenge/token')).body.toString()).toBe('token.key\n');
    // A root mount still leaves the rest of the site to the app.
    expect((await get('/')).body.toString()).toBe('app: GET /');
    expect((await get('/admin/login/')).body.toString()).toBe('app: GET /admin/login/');
  });

  it('refuses symlinks out of the directory with 404 unless allowed; those inside are served', async () => {
    symlinkSync(join(dir, 'settings.py'), join(root, 'settings.py'));
    symlinkSync(dir, join(root, 'project'));
    symlinkSync(join(root, 'css', 'app.css'), join(root, 'alias.css'));
    const strict = await serve();
    expect((await strict.get('/static/settings.py')).status).toBe(404);
    expect((await strict.get('/static/project/settings.py')).status).toBe(404);
    expect((await strict.get('/static/alias.css')).status).toBe(200);
    const following = await serve({ followSymlinks: true });
    expect((await following.get('/static/settings.py')).body.toString()).toBe('SECRET_KEY = "x"\n');
  });

  it('refuses what is not a regular file (a FIFO) with 404, without hanging', async () => {
    const made = spawnSync('mkfifo', [join(root, 'pipe.css')]);
    expect(made.status).toBe(0);
    const { get } = await serve();
    expect((await get('/static/pipe.css')).status).toBe(404);
  });

  it('sees a file changed in place, a new file and a removed one within a second', async () => {
    const { get } = await serve();
    expect((await get('/static/css/app.css')).body.length).toBe(2000);
    writeFileSync(join(root, 'css', 'app.css'), 'new');
    await eventually('the new content', async () => ((await get('/static/css/app.css')).body.toString() === 'new' ? true : undefined));
    rmSync(join(root, 'css', 'app.css'));
    await eventually('the removed file fall through to the app', async () => ((await get('/static/css/app.css')).body.toString().startsWith('app:') ? true : undefined));
    writeFileSync(join(root, 'css', 'app.css'), 'back');
    expect((await get('/static/css/app.css')).body.toString()).toBe('back');
  });

  it('sends a large file as it is on disk, even when it changed since it was looked up', async () => {
    const size = 2 * 1024 * 1024;
    writeFileSync(join(root, 'video.mp4'), Buffer.alloc(size, 1));
    const { get } = await serve();
    expect((await get('/static/video.mp4')).body.length).toBe(size);
    writeFileSync(join(root, 'video.mp4'), Buffer.alloc(size - 1000, 2));
    const res = await get('/static/video.mp4');
    expect(res.complete).toBe(true);
    expect(res.headers['content-length']).toBe(String(size - 1000));
    expect(res.body.equals(Buffer.alloc(size - 1000, 2))).toBe(true);
  });

  it("caches hashed names long: Django's manifest when there is one, else their form", async () => {
    writeFileSync(join(root, 'css', 'app.5af66c1b1797.css'), 'hashed');
    writeFileSync(join(root, 'css', 'old.0123456789ab.css'), 'looks hashed');
    const byForm = await serve({ hashedMaxAgeS: 86_400 });
    expect((await byForm.get('/static/css/app.5af66c1b1797.css')).headers['cache-control']).toBe('public, max-age=86400, immutable');
    expect((await byForm.get('/static/css/old.0123456789ab.css')).headers['cache-control']).toBe('public, max-age=86400, immutable');
    writeFileSync(join(root, 'staticfiles.json'), JSON.stringify({ paths: { 'css/app.css': 'css/app.5af66c1b1797.css' }, version: '1.1' }));
    const byManifest = await serve();
    expect((await byManifest.get('/static/css/app.5af66c1b1797.css')).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await byManifest.get('/static/css/old.0123456789ab.css')).headers['cache-control']).toBe('public, max-age=60');
    expect((await byManifest.get('/static/css/app.css')).headers['cache-control']).toBe('public, max-age=60');
  });

  it('sends Access-Control-Allow-Origin when set', async () => {
    const { get } = await serve({ cors: '*' });
    expect((await get('/static/css/app.css')).headers['access-control-allow-origin']).toBe('*');
  });

  it('matches the prefix after the root path, with or without it in the path', async () => {
    const { get } = await serve({ rootPath: '/shop' });
    expect((await get('/shop/static/css/app.css')).status).toBe(200);
    expect((await get('/static/css/app.css')).status).toBe(200);
    expect((await get('/shop/other')).body.toString()).toBe('app: GET /shop/other');
  });

  it('serves several mounts, the longest prefix first', async () => {
    mkdirSync(join(dir, 'admin-static'));
    writeFileSync(join(dir, 'admin-static', 'base.css'), 'admin');
    const { get } = await serve({ mounts: [{ prefix: '/static/', directory: 'staticfiles' }, { prefix: '/static/admin/', directory: join(dir, 'admin-static') }] });
    expect((await get('/static/admin/base.css')).body.toString()).toBe('admin');
    expect((await get('/static/css/app.css')).status).toBe(200);
  });

  it('will not start on a directory that does not exist', () => {
    expect(() => new StaticFiles({ mounts: [{ prefix: '/static/', directory: 'nope' }], cwd: dir, rootPath: '', maxAgeS: 60, hashedMaxAgeS: 60, cors: null, followSymlinks: false, log: recordingLog().log })).toThrow(
      `static /static/=nope: ${join(dir, 'nope')} does not exist; run collectstatic`,
    );
    expect(() => new StaticFiles({ mounts: [{ prefix: '/static/', directory: 'settings.py' }], cwd: dir, rootPath: '', maxAgeS: 60, hashedMaxAgeS: 60, cors: null, followSymlinks: false, log: recordingLog().log })).toThrow(/is not a directory/);
  });
});

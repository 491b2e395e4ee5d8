import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, repoRoot } from './support/bicorn-process.js';
import { Browser, inputValue, multipart, urlencoded } from './support/cookies.js';
import { distinctAnswers } from './support/http.js';

// The pinned Django lives in the repo's virtualenv, made by `pnpm python:setup`.
const python = join(repoRoot, '.venv', 'bin', 'python');
const hasDjango = spawnSync(python, ['-c', 'import django']).status === 0;
const suite = hasDjango ? 'a Django project served by bicorn' : 'a Django project served by bicorn (skipped: no Django in .venv; run `pnpm python:setup`)';

function serve(extra: string[] = []): BicornProcess {
  return new BicornProcess(['-b', '127.0.0.1:0', '--python', python, '--chdir', fixture('django_project'), ...extra, 'mysite.wsgi:application']);
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe.skipIf(!hasDjango)(suite, () => {
  it('renders template pages from two workers, with non-ASCII paths and escaping', async () => {
    const bicorn = serve(['-w', '2']);
    const url = await bicorn.listening();
    expect((await distinctAnswers(`${url}/`, 2)).size).toBe(2);
    const browser = new Browser(url);
    const home = await browser.get('/');
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home.body).toContain('<h1>Hello, World!</h1>');
    expect((await browser.get('/hello/Zo%C3%AB/')).body).toContain('<h1>Hello, Zoë!</h1>\n<p>Served by Django from process');
    expect((await browser.get('/hello/Zo%C3%AB/')).body).toContain('at /hello/Zoë/.');
    expect((await browser.get('/?name=%3Cscript%3E')).body).toContain('<h1>Hello, &lt;script&gt;!</h1>');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('accepts a form POST with the CSRF cookie and token, and refuses it without them', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const stranger = new Browser(url);
    const refused = await stranger.post('/form/', urlencoded({ name: 'Mallory', message: 'hi' }));
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('CSRF verification failed');

    const browser = new Browser(url);
    const form = await browser.get('/form/');
    expect(form.status).toBe(200);
    expect(browser.cookies.get('csrftoken')).toMatch(/^\w{32}$/);
    const token = inputValue(form.body, 'csrfmiddlewaretoken');
    const noToken = await browser.post('/form/', urlencoded({ name: 'Ada', message: 'hello' }));
    expect(noToken.status).toBe(403);
    const wrongToken = await browser.post('/form/', urlencoded({ csrfmiddlewaretoken: 'x'.repeat(64), name: 'Ada', message: 'hello' }));
    expect(wrongToken.status).toBe(403);

    const invalid = await browser.post('/form/', urlencoded({ csrfmiddlewaretoken: token, name: '', message: 'hello' }));
    expect(invalid.status).toBe(200);
    expect(invalid.body).toContain('This field is required.');
    const sent = await browser.post('/form/', urlencoded({ csrfmiddlewaretoken: token, name: 'Ada Lovelace', message: 'héllo wörld' }));
    expect(sent.status).toBe(302);
    expect(sent.headers.location).toBe('/form/thanks/');
    const thanks = await browser.get('/form/thanks/');
    expect(thanks.body).toContain('<li class="success">Thanks, Ada Lovelace: got 11 characters.</li>');
    // The message is shown once: reading it deletes its cookie.
    expect((await browser.get('/form/thanks/')).body).not.toContain('Ada Lovelace');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('sets and reads cookies, and keeps a session in a signed cookie', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const browser = new Browser(url);
    expect((await browser.get('/cookie/read/')).body).toBe('(none)');
    const set = await browser.get('/cookie/set/?flavour=oatmeal');
    const attributes = set.headers['set-cookie']?.[0]?.split(/;\s*/) ?? [];
    expect(attributes[0]).toBe('flavour=oatmeal');
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Max-Age=3600', 'Path=/', 'SameSite=Lax']));
    expect((await browser.get('/cookie/read/')).body).toBe('oatmeal');
    const visits: string[] = [];
    for (let i = 0; i < 3; i++) visits.push((await browser.get('/visits/')).body);
    expect(visits).toEqual(['visits: 1', 'visits: 2', 'visits: 3']);
    expect((await new Browser(url).get('/visits/')).body).toBe('visits: 1');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('redirects: permanently, to add a trailing slash, and keeps the query string', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const browser = new Browser(url);
    expect(await browser.get('/old/')).toMatchObject({ status: 301, headers: { location: '/' } });
    expect(await browser.get('/form?from=menu')).toMatchObject({ status: 301, headers: { location: '/form/?from=menu' } });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('receives multipart file uploads, several at once', async () => {
    const bicorn = serve(['-w', '2', '--threads', '2']);
    const url = await bicorn.listening();
    const browser = new Browser(url);
    const token = inputValue((await browser.get('/form/')).body, 'csrfmiddlewaretoken');
    // A few hundred KB each, and one of 3 MB, past the framework's in-memory upload limit.
    const files = [300_000, 310_000, 320_000, 3_000_000].map((size) => randomBytes(size));
    const answers = await Promise.all(
      files.map((data, i) => browser.post('/upload/', multipart({ csrfmiddlewaretoken: token, note: `file ${String(i)}` }, { file: { filename: `data-${String(i)}.bin`, contentType: 'application/octet-stream', data } }))),
    );
    for (const [i, answer] of answers.entries()) {
      const data = files[i] ?? Buffer.alloc(0);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ name: `data-${String(i)}.bin`, size: data.length, sha256: sha256(data), note: `file ${String(i)}` });
    }
    const data = randomBytes(1000);
    const unprotected = await new Browser(url).post('/upload/', multipart({}, { file: { filename: 'x.bin', contentType: 'application/octet-stream', data } }));
    expect(unprotected.status).toBe(403);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("answers Django's own 404 and 500 pages, and logs the view's traceback", async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const browser = new Browser(url);
    const missing = await browser.get('/no/such/page/');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('<h1>Not Found</h1>');
    const failed = await browser.get('/boom/');
    expect(failed.status).toBe(500);
    expect(failed.body).toContain('<h1>Server Error (500)</h1>');
    expect(failed.body).not.toContain('the view failed on purpose');
    // Django's logging record, traceback and all, is one entry at its level.
    const logged = await bicorn.waitForLog("the view's exception on stderr", (l) => l.stream === 'stderr' && l.msg.includes('RuntimeError: the view failed on purpose'));
    expect(logged).toMatchObject({ level: 50, logger: 'django.request' });
    expect(logged.msg).toMatch(/^Internal Server Error: \/boom\/\nTraceback \(most recent call last\):\n[\s\S]+\nRuntimeError: the view failed on purpose$/);
    expect((await browser.get('/')).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

// The Django project of test/fixtures/django_project served through Django's ASGI handler
// (mysite.asgi:application, django.core.asgi.get_asgi_application): sync and async views,
// a streamed async response, CSRF forms, uploads and error pages, all over ASGI.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, repoRoot } from './support/bicorn-process.js';
import { Browser, inputValue, multipart, urlencoded } from './support/cookies.js';
import { distinctAnswers, get } from './support/http.js';

// The pinned Django lives in the repo's virtualenv, made by `pnpm python:setup`.
const python = join(repoRoot, '.venv', 'bin', 'python');
const hasDjango = spawnSync(python, ['-c', 'import django']).status === 0;
const suite = hasDjango ? "a Django project served by bicorn through Django's ASGI handler" : "a Django project served by bicorn through Django's ASGI handler (skipped: no Django in .venv; run `pnpm python:setup`)";

function serve(extra: string[] = []): BicornProcess {
  return new BicornProcess(['-b', '127.0.0.1:0', '--python', python, '--chdir', fixture('django_project'), ...extra, 'mysite.asgi:application']);
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe.skipIf(!hasDjango)(suite, () => {
  it('renders template pages and async views from two ASGI workers, and streams an async response', async () => {
    const bicorn = serve(['-w', '2']);
    const url = await bicorn.listening();
    expect(bicorn.lines.filter((l) => l.msg === 'worker ready').map((l) => l.interface)).toEqual(['asgi', 'asgi']);
    expect((await distinctAnswers(`${url}/`, 2)).size).toBe(2);
    const browser = new Browser(url);
    const hello = await browser.get('/hello/Zo%C3%AB/');
    expect(hello.status).toBe(200);
    expect(hello.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(hello.body).toContain('<h1>Hello, Zoë!</h1>\n<p>Served by Django from process');
    expect(hello.body).toContain('at /hello/Zoë/.');
    expect((await browser.get('/?name=%3Cscript%3E')).body).toContain('<h1>Hello, &lt;script&gt;!</h1>');

    const info = await get(`${url}/async/?colour=blue`);
    expect(JSON.parse(info.body)).toEqual({
      async: true,
      results: ['a', 'b'],
      path: '/async/',
      method: 'GET',
      scheme: 'http',
      query: { colour: 'blue' },
      request_class: 'ASGIRequest',
    });
    const streamed = await get(`${url}/async/stream/?n=4`);
    expect(streamed.status).toBe(200);
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    expect(streamed.body).toBe('part 0\npart 1\npart 2\npart 3\n');

    // Django's ASGI handler refuses the lifespan scope: --lifespan auto serves it anyway.
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('accepts a CSRF-protected form and multipart uploads, and keeps a cookie session', async () => {
    const bicorn = serve();
    const url = await bicorn.listening();
    const browser = new Browser(url);
    expect((await new Browser(url).post('/form/', urlencoded({ name: 'Mallory', message: 'hi' }))).status).toBe(403);
    const token = inputValue((await browser.get('/form/')).body, 'csrfmiddlewaretoken');
    const sent = await browser.post('/form/', urlencoded({ csrfmiddlewaretoken: token, name: 'Ada Lovelace', message: 'héllo wörld' }));
    expect(sent).toMatchObject({ status: 302, headers: { location: '/form/thanks/' } });
    expect((await browser.get('/form/thanks/')).body).toContain('<li class="success">Thanks, Ada Lovelace: got 11 characters.</li>');

    // One upload past Django's in-memory limit, so it goes through a temporary file.
    const files = [200_000, 3_000_000].map((size) => randomBytes(size));
    const answers = await Promise.all(
      files.map((data, i) => browser.post('/upload/', multipart({ csrfmiddlewaretoken: token, note: `file ${String(i)}` }, { file: { filename: `data-${String(i)}.bin`, contentType: 'application/octet-stream', data } }))),
    );
    for (const [i, answer] of answers.entries()) {
      const data = files[i] ?? Buffer.alloc(0);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ name: `data-${String(i)}.bin`, size: data.length, sha256: sha256(data), note: `file ${String(i)}` });
    }
    const visits: string[] = [];
    for (let i = 0; i < 3; i++) visits.push((await browser.get('/visits/')).body);
    expect(visits).toEqual(['visits: 1', 'visits: 2', 'visits: 3']);
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
    const logged = await bicorn.waitForLog("the view's exception on stderr", (l) => l.stream === 'stderr' && l.msg.includes('RuntimeError: the view failed on purpose'));
    expect(logged).toMatchObject({ level: 50, logger: 'django.request' });
    expect(logged.msg).toMatch(/^Internal Server Error: \/boom\/\nTraceback \(most recent call last\):\n[\s\S]+\nRuntimeError: the view failed on purpose$/);
    expect((await browser.get('/')).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

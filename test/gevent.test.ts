// gunicorn's gevent workers (-k gevent): a WSGI app on greenlets in its Python process, as many
// requests at once as --worker-connections, and a clear exit where gevent is not installed.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, repoRoot, runBicorn } from './support/bicorn-process.js';
import { hasPython, noPython } from './support/python.js';
import { skipped } from './support/skip.js';
import { tempDir } from './support/temp-dir.js';

// The pinned gevent lives in the repo's virtualenv, made by `pnpm python:setup`.
const python = join(repoRoot, '.venv', 'bin', 'python');
const hasGevent = spawnSync(python, ['-c', 'import gevent']).status === 0;
const systemHasGevent = spawnSync('python3', ['-c', 'import gevent']).status === 0;

// Each request waits in the app until all of them are there: on threads, or a pool smaller than
// the crowd, the first would wait alone and the test would time out instead of passing.
const CROWD_APP = `
import os, threading, time

wanted = int(os.environ["CROWD"])
arrived = 0
lock = threading.Lock()
all_here = threading.Event()

def application(environ, start_response):
    global arrived
    with lock:
        arrived += 1
        if arrived == wanted:
            all_here.set()
    all_here.wait(120)
    time.sleep(0.5)  # a slow request, on a greenlet: time is patched
    start_response("200 OK" if all_here.is_set() else "504 Gateway Timeout", [("content-type", "text/plain")])
    return [b"together"]
`;

/** One GET on a connection of its own; resolves with the status. */
function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!hasGevent)(`gevent workers${skipped(!hasGevent, 'no gevent in .venv; run `pnpm python:setup`')}`, () => {
  it('serve a thousand slow requests at once on one worker, each on a greenlet', async () => {
    const dir = tempDir('bicorn-gevent-');
    writeFileSync(join(dir, 'crowd.py'), CROWD_APP);
    const crowd = 1000;
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '-w', '1', '-k', 'gevent', '--worker-connections', String(crowd), '--python', python, '--chdir', dir, '--timeout', '120', 'crowd:application'], { env: { CROWD: String(crowd) } });
    const url = await bicorn.listening();
    const statuses = await Promise.all(Array.from({ length: crowd }, () => status(`${url}/`)));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  }, 180_000);

  it('refuse an ASGI app, saying what to use instead (exit 2)', async () => {
    const dir = tempDir('bicorn-gevent-');
    writeFileSync(join(dir, 'asgi.py'), 'async def app(scope, receive, send):\n    pass\n');
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', '-k', 'gevent', '--python', python, '--chdir', dir, 'asgi:app']);
    expect(code).toBe(2);
    expect(stderr).toContain('-k gevent serves WSGI apps, and asgi:app is an ASGI app');
  });
});

describe.skipIf(!hasPython || systemHasGevent)(`gevent workers without gevent${noPython}${skipped(systemHasGevent, 'python3 on PATH has gevent')}`, () => {
  it('exit 2 saying how to install gevent', async () => {
    const dir = tempDir('bicorn-gevent-');
    writeFileSync(join(dir, 'app.py'), 'def application(environ, start_response):\n    pass\n');
    const { code, stderr } = await runBicorn(['-b', '127.0.0.1:0', '-k', 'gevent', '--python', 'python3', '--chdir', dir, 'app:application']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/-k gevent needs gevent in the app's environment, and .*python3.* cannot import it: install it there \(pip install gevent\), or serve with -k gthread and --threads N/);
  });
});

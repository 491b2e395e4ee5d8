// Apps that send `Connection: close`, as apps and middlewares in the wild do: a Django view, a
// Flask view, a Starlette route, a JavaScript ASGI app and a fetch handler each answer 200, and
// the server closes the connection after the response (protocol's send/SPEC.md: hop-by-hop
// headers are the server's, and close is honoured).
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, repoRoot } from './support/bicorn-process.js';
import { skipped } from './support/skip.js';

const python = join(repoRoot, '.venv', 'bin', 'python');
const hasFrameworks = spawnSync(python, ['-c', 'import django, flask, starlette']).status === 0;

interface Closing {
  readonly head: string;
  readonly body: string;
  /** The server ended the connection after its response, on a request that asked to keep it. */
  readonly closedByServer: boolean;
}

/** A keep-alive request on a new connection; waits for the server to close it, at most 5 s. */
function requestKeepingAlive(url: string, path: string): Promise<Closing> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
    const chunks: Buffer[] = [];
    const settle = (closedByServer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, end).toLowerCase(), body: text.slice(end + 4), closedByServer });
    };
    // Only a server that keeps the connection open lets this run out.
    const timer = setTimeout(() => settle(false), 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => settle(true));
    socket.on('error', reject);
  });
}

const pythonApps = [
  { name: 'a Django view', args: ['--python', python, '--chdir', fixture('django_project'), 'mysite.wsgi:application'], path: '/connection-close/' },
  { name: 'a Flask view', args: ['--python', python, '--chdir', fixture('flask_app'), 'app:app'], path: '/connection-close/' },
  { name: 'a Starlette route', args: ['--python', python, '--chdir', fixture('starlette_app'), 'app:app'], path: '/connection-close' },
];
const jsApps = [
  { name: 'a JavaScript ASGI app', args: [fixture('apps/asgi.mjs')], path: '/connection-close' },
  { name: 'a fetch handler', args: [fixture('apps/fetch.mjs')], path: '/connection-close' },
];

async function answersAndCloses(app: { args: readonly string[]; path: string }): Promise<void> {
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...app.args]);
  try {
    const url = await bicorn.listening();
    const answer = await requestKeepingAlive(url, app.path);
    expect(answer.head).toMatch(/^http\/1\.1 200 /);
    expect(answer.head).toContain('connection: close');
    expect(answer.closedByServer).toBe(true);
  } finally {
    expect((await bicorn.stop()).code).toBe(0);
  }
}

describe.skipIf(!hasFrameworks)(`Python apps that send Connection: close (frameworks from .venv)${skipped(!hasFrameworks, 'no Django, Flask or Starlette in .venv; run `pnpm python:setup`')}`, () => {
  it.each(pythonApps.map((app) => [app.name, app] as const))('%s answers 200, and the connection closes after the response', async (_name, app) => {
    await answersAndCloses(app);
  });
});

describe('JavaScript apps that send Connection: close', () => {
  it.each(jsApps.map((app) => [app.name, app] as const))('%s answers 200, and the connection closes after the response', async (_name, app) => {
    await answersAndCloses(app);
  });
});

// WebSocket interoperability with another client than the Node one: Python's websockets
// package (pinned in scripts/python-requirements.txt) runs test/fixtures/python/ws_client.py
// against raw_asgi.py served by bicorn, and the test checks what it saw.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, repoRoot } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { pythonFixtures } from './support/python.js';
import { observed } from './support/raw-asgi.js';

const python = join(repoRoot, '.venv', 'bin', 'python');
const hasWebsockets = spawnSync(python, ['-c', 'import websockets, uvloop']).status === 0;
const suite = hasWebsockets
  ? "Python's websockets client against a raw ASGI app"
  : "Python's websockets client against a raw ASGI app (skipped: no websockets or uvloop in .venv; run `pnpm python:setup`)";

/** Runs the client script to its end; its stdout is one JSON object. */
function runClient(base: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(pythonFixtures, 'ws_client.py'), base], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as Record<string, unknown>);
      else reject(new Error(`ws_client.py exited with ${String(code)}\n${stderr}`));
    });
  });
}

describe.skipIf(!hasWebsockets)(suite, () => {
  // The venv has uvloop, so --loop auto runs the app on it as --loop uvloop does; --loop
  // asyncio on the stdlib loop.
  const loops = [
    ['auto', 'uvloop'],
    ['uvloop', 'uvloop'],
    ['asyncio', 'asyncio'],
  ] as const;
  for (const [loop, expected] of loops) {
    it(`holds a whole conversation (--loop ${loop}, on ${expected}'s loop)`, async () => {
      const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--python', python, '--loop', loop, '--chdir', pythonFixtures, 'raw_asgi:app']);
      const url = await bicorn.listening();
      const running = JSON.parse((await get(`${url}/loop`)).body) as { module: string; name: string };
      expect(running.module.split('.')[0]).toBe(expected);
      const seen = await runClient(url);
      expect(seen).toMatchObject({
        subprotocol: 'bicorn.v2',
        accepted_by: 'raw_asgi',
        // permessage-deflate is off by default, so the offer is declined.
        extensions: null,
        text: 'echo: grüß dich',
        bytes: Buffer.from('echo:\x00\xffbytes', 'latin1').toString('hex'),
        big: { size: 5 + 256 * 5000, same: true },
        scope: { type: 'websocket', path: '/ws/echo', query_string: 'client=python', subprotocols: ['bicorn.v2', 'other'], scheme: 'ws', x_client: ['websockets'] },
        server_close: { code: 4001, reason: 'bye from raw_asgi' },
        second: 'echo: ping',
        client_close: { code: 4500, reason: 'python says bye' },
        deny: 403,
        deny_custom: { status: 401, body: 'no token, no entry' },
      });
      expect(await observed(url, 'ws_disconnect')).toMatchObject({ code: 4500 });
      expect((await bicorn.stop()).code).toBe(0);
      expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
    });
  }
});

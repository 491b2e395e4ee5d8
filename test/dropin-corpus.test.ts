// A sample of the corpus of real gunicorn and uvicorn command lines (test/fixtures/dropin/
// corpus.json), served by the binary renamed: the lines marked `serve`, with their addresses
// moved to 127.0.0.1 on port 0 and a hello app under their app name. Every line of the corpus
// goes through bicorn check in packages/cli/test/dropin-corpus.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { hasPython, noPython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

interface Line {
  readonly source: string;
  readonly line?: string;
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly serve?: 'asgi' | 'wsgi';
}

const corpus = JSON.parse(readFileSync(fixture('dropin/corpus.json'), 'utf8')) as { lines: readonly Line[] };
const samples = corpus.lines.filter((entry) => entry.serve !== undefined);

const apps = {
  asgi: 'async def {name}(scope, receive, send):\n    await send({"type": "http.response.start", "status": 200, "headers": []})\n    await send({"type": "http.response.body", "body": b"hello"})\n',
  wsgi: 'def {name}(environ, start_response):\n    start_response("200 OK", [])\n    return [b"hello"]\n',
};

/** The words after the tool; the sample lines are plain words (no quotes, no variables). */
function argsOf(entry: Line): string[] {
  const words = entry.argv ?? (entry.line ?? '').split(/\s+/);
  return words.slice(words.findIndex((word) => /(^|\/)(gunicorn|uvicorn)$/.test(word)) + 1);
}

/** The line's addresses, moved to the loopback interface on a port the kernel picks. */
function onLoopback(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (['-b', '--bind', '--host', '--port'].includes(arg)) {
      out.push(arg, arg === '--host' ? '127.0.0.1' : arg === '--port' ? '0' : '127.0.0.1:0');
      i++;
    } else {
      out.push(arg.startsWith('--bind=') ? '--bind=127.0.0.1:0' : arg);
    }
  }
  return out;
}

describe.skipIf(!hasPython)(`real command lines, served with the binary renamed${noPython}`, () => {
  it.each(samples.map((entry) => ({ ...entry, name: `${(entry.argv ?? []).join(' ') || (entry.line ?? '')} (${entry.source})` })))('$name', async (entry) => {
    const args = onLoopback(argsOf(entry));
    const app = args.find((arg) => /^[A-Za-z_][\w.]*:\w+$/.test(arg)) ?? '';
    const [module = '', name = 'app'] = app.split(':');
    const dir = tempDir('bicorn-corpus-');
    writeFileSync(join(dir, `${module}.py`), apps[entry.serve ?? 'wsgi'].replace('{name}', name));
    const env = Object.fromEntries(Object.entries(entry.env ?? {}).map(([key, value]) => [key, value.replace(/--bind=\S+/, '--bind=127.0.0.1:0')]));
    const bicorn = new BicornProcess(args, { cwd: dir, env });
    const url = await bicorn.listening();
    expect(await get(`${url}/`)).toMatchObject({ status: 200, body: 'hello' });
    const ready = bicorn.lines.filter((l) => l.msg === 'worker ready');
    expect(ready.map((l) => l.interface)).toContain(entry.serve);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

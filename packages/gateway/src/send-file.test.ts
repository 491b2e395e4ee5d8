import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { send, startServer, type TestServer } from '@bicorn/test-support';
import { sendFile } from './send-file.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('sendFile', () => {
  it('opens a Buffer path as its bytes, so a file name that is not UTF-8 is sent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bicorn-send-file-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // "caf\xe9.txt": latin-1, not UTF-8 (decoding it as UTF-8 would name another file).
    const path = Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]);
    await writeFile(path, 'bytes');
    const server: TestServer = await startServer((_req, res) => {
      void sendFile(res, path, { status: 200, headers: [], keepOpen: false, head: false });
    });
    cleanups.push(() => server.close());
    const res = await send(server.port);
    expect([res.status, res.headers['content-length'], res.body.toString()]).toEqual([200, '5', 'bytes']);
  });
});

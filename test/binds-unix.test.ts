// unix: binds end to end: serving, the socket file's mode, stale and live files, removal on exit.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, runBicorn } from './support/bicorn-process.js';
import { get, getUnix } from './support/http.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');
const socketIn = (name = 'bicorn.sock') => join(tempDir('bicorn-unix-'), name);

describe('unix socket binds', () => {
  it('serve on a unix socket beside a TCP address, with mode 660, and remove the file on exit', async () => {
    const path = socketIn();
    const bicorn = new BicornProcess(['-b', `unix:${path}`, '-b', '127.0.0.1:0', APP]);
    const line = await bicorn.waitForLog('the listening line', (l) => l.msg === 'listening');
    expect(line.addresses).toEqual([`unix:${path}`, expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    expect((await getUnix(path)).body).toMatch(/^fetch \d+$/);
    expect((await get(`http://${(line.addresses as string[])[1] ?? ''}/`)).status).toBe(200);
    const stat = statSync(path);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o660);
    expect((await bicorn.stop()).code).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it('give the socket file the mode of --socket-mode, also through --uds', async () => {
    const path = socketIn();
    const bicorn = new BicornProcess(['--uds', path, '--socket-mode', '600', APP]);
    await bicorn.listening();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await getUnix(path)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('replace a stale socket file left by a server that died', async () => {
    const path = socketIn();
    // A server killed before it could remove its socket file.
    spawnSync(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))", path]);
    expect(statSync(path).isSocket()).toBe(true);
    const bicorn = new BicornProcess(['-b', `unix:${path}`, APP]);
    await bicorn.listening();
    expect((await getUnix(path)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('refuse to start while another server listens on the socket, and leave its file alone', async () => {
    const path = socketIn();
    const other = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => other.listen(path, resolve));
    try {
      const { code, stderr } = await runBicorn(['-b', `unix:${path}`, APP]);
      expect(code).toBe(2);
      expect(stderr).toBe(`bicorn: error: cannot bind unix:${path}: a server is listening on this socket (is bicorn already running there?) (EADDRINUSE); choose another address with -b\n`);
      expect(statSync(path).isSocket()).toBe(true);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('never remove a file that is not a socket', async () => {
    const path = socketIn('not-a-socket');
    writeFileSync(path, 'data');
    const { code, stderr } = await runBicorn(['-b', `unix:${path}`, APP]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot bind unix:\S+: a file that is not a socket is in the way/);
    expect(statSync(path).isFile()).toBe(true);
  });

  it('keep the socket across reloads', async () => {
    const path = socketIn();
    const bicorn = new BicornProcess(['-b', `unix:${path}`, APP]);
    await bicorn.listening();
    const before = statSync(path).ino;
    bicorn.signal('SIGHUP');
    await bicorn.waitForLog('the reload', (l) => l.msg === 'reloaded');
    expect(statSync(path).ino).toBe(before);
    expect((await getUnix(path)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

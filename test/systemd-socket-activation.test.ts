// Socket activation end to end, with Debian's systemd-socket-activate as the service manager:
// it binds the sockets, waits for the first connection, and execs bicorn with LISTEN_FDS.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { getUnix } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { skipped } from './support/skip.js';
import { tempDir } from './support/temp-dir.js';

const ACTIVATE = '/usr/bin/systemd-socket-activate';
const APP = fixture('apps/fetch.mjs');

/** Polls until systemd-socket-activate has created the socket file. */
async function socketFile(path: string, bicorn: BicornProcess): Promise<void> {
  await pollUntil(
    () => `systemd-socket-activate to listen on ${path}:\n${bicorn.stderr}`,
    () => {
      if (bicorn.hasExited) throw new Error(`systemd-socket-activate exited before it listened on ${path}:\n${bicorn.stderr}`);
      return existsSync(path) && statSync(path).isSocket() ? true : undefined;
    },
  );
}

function environOf(pid: number): string[] {
  return readFileSync(`/proc/${String(pid)}/environ`, 'utf8').split('\0');
}

describe.skipIf(!existsSync(ACTIVATE))(`systemd socket activation${skipped(!existsSync(ACTIVATE), `no ${ACTIVATE} (apt-get install systemd)`)}`, () => {
  it('serves the one socket systemd passed, instead of the bind address', async () => {
    const path = join(tempDir('bicorn-activate-'), 'web.sock');
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { launcher: [ACTIVATE, '-l', path] });
    await socketFile(path, bicorn);
    // The first connection makes systemd-socket-activate exec bicorn, which then answers it.
    expect((await getUnix(path)).body).toMatch(/^fetch \d+$/);
    const listening = await bicorn.waitForLog('the listening line', (l) => l.msg === 'listening');
    expect(listening.addresses).toEqual(['fd://3']);
    expect(bicorn.lines.find((l) => l.msg.startsWith('serving the sockets systemd passed'))).toMatchObject({ sockets: ['unknown'] });
    expect(environOf(bicorn.workerPid()).filter((v) => v.startsWith('LISTEN_'))).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
    // The socket is systemd's: bicorn does not remove it.
    expect(statSync(path).isSocket()).toBe(true);
  });

  it('serves two sockets, and picks one by its FileDescriptorName= with systemd:NAME', async () => {
    const dir = tempDir('bicorn-activate-');
    const [web, admin] = [join(dir, 'web.sock'), join(dir, 'admin.sock')];
    const both = new BicornProcess(['-w', '2', APP], { launcher: [ACTIVATE, '-l', web, '-l', admin, '--fdname=web:admin'] });
    await socketFile(admin, both);
    expect((await getUnix(admin)).status).toBe(200);
    expect((await getUnix(web)).status).toBe(200);
    expect((await both.waitForLog('the listening line', (l) => l.msg === 'listening')).addresses).toEqual(['fd://3', 'fd://4']);
    expect((await both.stop()).code).toBe(0);

    const dir2 = tempDir('bicorn-activate-');
    const [web2, admin2] = [join(dir2, 'web.sock'), join(dir2, 'admin.sock')];
    const one = new BicornProcess(['-b', 'systemd:admin', APP], { launcher: [ACTIVATE, '-l', web2, '-l', admin2, '--fdname=web:admin'] });
    await socketFile(admin2, one);
    expect((await getUnix(admin2)).status).toBe(200);
    expect((await one.waitForLog('the listening line', (l) => l.msg === 'listening')).addresses).toEqual(['fd://4']);
    expect((await one.stop()).code).toBe(0);
  });
});

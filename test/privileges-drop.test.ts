// --user, --group and --umask end to end: the master stays root and binds, its workers and their
// Python processes run as the user, and the files they write are theirs. Needs root (it is, in
// CI and on the developers' machines), and the nobody user and nogroup group of Debian.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture, repoRoot, runBicorn } from './support/bicorn-process.js';
import { get, getUnix, post } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { pythonFixtures } from './support/python.js';
import { skipped } from './support/skip.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');
const NOBODY = 65534;
// The system interpreter: one a dropped user can run (pyenv's live under /root).
const SYSTEM_PYTHON = '/usr/bin/python3';
const isRoot = process.getuid?.() === 0;
const hasNobody = spawnSync('getent', ['passwd', 'nobody']).status === 0 && spawnSync('getent', ['group', 'nogroup']).status === 0;
/** Whether nobody can run node and read these files (a checkout under /root cannot be read). */
const nobodyReads = (...paths: string[]): boolean =>
  isRoot && hasNobody && spawnSync(process.execPath, ['-e', 'for (const p of process.argv.slice(1)) require("fs").accessSync(p, require("fs").constants.R_OK)', ...paths], { uid: NOBODY, gid: NOBODY }).status === 0;
const canDrop = nobodyReads(join(repoRoot, 'packages/worker/dist/main.js'), APP);
const canDropPython = canDrop && existsSync(SYSTEM_PYTHON) && nobodyReads(join(pythonFixtures, 'env_wsgi.py'), join(repoRoot, 'packages/python/runner/run.py'));


/** A directory any user can write, as a worker that dropped root needs for its files. */
function openDir(): string {
  const dir = tempDir('bicorn-privileges-');
  chmodSync(dir, 0o755);
  return dir;
}

function status(pid: number): { uid: number; gid: number; groups: string; umask: string } {
  const text = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const field = (name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  return { uid: Number(field('Uid').split(/\s+/)[0]), gid: Number(field('Gid').split(/\s+/)[0]), groups: field('Groups'), umask: field('Umask') };
}

function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

describe.skipIf(!canDrop)(`dropping root${skipped(!canDrop, 'they need root, the nobody user and nogroup group, and a checkout nobody can read')}`, () => {
  it('runs workers as --user with its primary group and no supplementary groups, while the master stays root and binds', async () => {
    const dir = openDir();
    const accessLog = join(dir, 'logs', 'access.log');
    const socket = join(dir, 'bicorn.sock');
    const pidFile = join(dir, 'bicorn.pid');
    const bicorn = new BicornProcess(['--user', 'nobody', '-w', '2', '-b', '127.0.0.1:0', '-b', `unix:${socket}`, '--access-logfile', accessLog, '-p', pidFile, '--umask', '027', APP]);
    const url = await bicorn.listening();
    expect(bicorn.lines.find((l) => l.msg === 'workers will run as this user')).toMatchObject({ uid: NOBODY, gid: NOBODY, user: 'nobody' });
    expect(bicorn.workerPids()).toHaveLength(2);
    for (const pid of bicorn.workerPids()) expect(status(pid)).toEqual({ uid: NOBODY, gid: NOBODY, groups: '', umask: '0027' });
    expect(status(bicorn.pid)).toMatchObject({ uid: 0, umask: '0027' });
    // The workers write the access log the master created, and serve the socket it bound.
    await get(`${url}/`);
    expect((await getUnix(socket)).status).toBe(200);
    await pollUntil('the access line of GET / in the log file', async () => {
      if (readFileSync(accessLog, 'utf8').includes('"path":"/"')) return true;
      await get(`${url}/`);
      return undefined;
    });
    expect(statSync(accessLog)).toMatchObject({ uid: NOBODY, gid: NOBODY });
    // The socket belongs to the workers' user and group, the pid file to the root master.
    expect(statSync(socket)).toMatchObject({ uid: NOBODY, gid: NOBODY });
    expect(statSync(socket).mode & 0o777).toBe(0o660);
    expect(statSync(pidFile)).toMatchObject({ uid: 0 });
    expect(statSync(pidFile).mode & 0o777).toBe(0o640);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("gives the workers the user's groups with --initgroups, as gunicorn does, dropping root themselves", async () => {
    const bicorn = new BicornProcess(['--user', 'nobody', '--initgroups', '-b', '127.0.0.1:0', APP]);
    const url = await bicorn.listening();
    expect(bicorn.lines.find((l) => l.msg === 'workers will run as this user')).toMatchObject({ uid: NOBODY, gid: NOBODY, initgroups: true });
    // Without --initgroups the list is empty (the test above): here it is nobody's, from the group database.
    expect(status(bicorn.workerPid())).toMatchObject({ uid: NOBODY, gid: NOBODY, groups: String(NOBODY) });
    expect(status(bicorn.pid)).toMatchObject({ uid: 0 });
    expect((await get(`${url}/`)).status).toBe(200);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('gives the socket to --socket-owner, and takes --group over the primary group', async () => {
    const socket = join(openDir(), 'bicorn.sock');
    const bicorn = new BicornProcess(['--user', 'nobody', '--group', 'root', '--socket-owner', ':nogroup', '-b', `unix:${socket}`, APP]);
    await bicorn.listening();
    expect(status(bicorn.workerPid())).toMatchObject({ uid: NOBODY, gid: 0 });
    expect(statSync(socket)).toMatchObject({ uid: 0, gid: NOBODY });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!canDropPython)(`runs the Python process of a worker as the user too${skipped(canDrop && !canDropPython, `nobody cannot run ${SYSTEM_PYTHON} on the fixtures`)}`, async () => {
    const bicorn = new BicornProcess(['--user', 'nobody', '-b', '127.0.0.1:0', '--python', SYSTEM_PYTHON, '--chdir', pythonFixtures, 'env_wsgi:application']);
    const url = await bicorn.listening();
    const answer = await get(`${url}/?HOME,USER`);
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as { env: Record<string, string> }).env).toEqual({ HOME: '/nonexistent', USER: 'nobody' });
    const [python] = childrenOf(bicorn.workerPid());
    expect(python).toBeDefined();
    expect(status(python ?? 0)).toMatchObject({ uid: NOBODY, gid: NOBODY, groups: '' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!canDropPython)(`hands a large upload to the Python process as its spool file only where it can open it${skipped(canDrop && !canDropPython, `nobody cannot run ${SYSTEM_PYTHON} on the fixtures`)}`, async () => {
    // Past the stream window a chunked WSGI body goes to the spool (one with a Content-Length
    // the Python process would receive from the socket itself), and the Python process opens the
    // worker's file through /proc/<worker>/fd. A worker started as the user owns its /proc
    // entries; one that drops root itself (--initgroups) is no longer dumpable, its entries
    // stay root's, and the body goes in frames instead.
    const body = 'u'.repeat(3 * 1024 * 1024);
    const chunked = [body.slice(0, 7), body.slice(7)];
    const digest = createHash('sha256').update(body).digest('hex');
    for (const [flags, source] of [[[], 'file'], [['--initgroups'], 'frames']] as const) {
      const bicorn = new BicornProcess(['--user', 'nobody', ...flags, '-b', '127.0.0.1:0', '--python', SYSTEM_PYTHON, '--chdir', pythonFixtures, 'validated_wsgi:edge_cases']);
      const url = await bicorn.listening();
      expect(await post(`${url}/body-source`, chunked)).toEqual({ status: 200, body: `${digest} ${source}` });
      expect((await bicorn.stop()).code).toBe(0);
    }
  });

  it('warns when it runs as root without --user, naming the risk', async () => {
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP]);
    await bicorn.listening();
    expect(bicorn.lines.find((l) => l.level === 40 && l.msg.startsWith('running as root without --user'))?.msg).toMatch(/a flaw in it hands over the whole machine/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('refuses --user when it was not started as root, and then does not warn', async () => {
    const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
    const { code, stderr, stdout } = await runBicorn(['--user', 'root', '-b', '127.0.0.1:0', APP], { launcher: asNobody });
    expect(code).toBe(2);
    expect(stderr).toBe('bicorn: error: user root needs bicorn to start as root to switch to it, but it runs as uid 65534; start it as root (or under a systemd unit with User=root), or leave user unset\n');
    const same = new BicornProcess(['--user', 'nobody', '-b', '127.0.0.1:0', APP], { launcher: asNobody });
    await same.listening();
    expect(same.lines.filter((l) => l.level >= 40)).toEqual([]);
    expect((await same.stop()).code).toBe(0);
    expect(stdout).not.toContain('running as root');
  });

  it('refuses a user this machine does not have, before binding anything', async () => {
    const { code, stderr } = await runBicorn(['--user', 'no-such-user-here', '-b', '127.0.0.1:0', APP]);
    expect(code).toBe(2);
    expect(stderr).toBe('bicorn: error: user: this machine has no user no-such-user-here; create it (useradd --system, groupadd --system) or name another one (or a numeric id) in user\n');
  });
});

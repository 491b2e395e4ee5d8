// -n/--name: the process titles ps shows, for the master, its workers and their Python processes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { hasPython, noPython } from './support/python.js';
import { pollUntil } from './support/poll.js';
import { tempDir } from './support/temp-dir.js';

/** What `ps -o args` shows, and what `ps -o comm` shows (the kernel's 15 bytes). */
function titles(pid: number): { args: string; comm: string } {
  const args = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
  return { args, comm: readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim() };
}

/** The children of a process, by pid. */
function children(pid: number): number[] {
  const tasks = readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, 'utf8').trim();
  return tasks === '' ? [] : tasks.split(' ').map(Number);
}

describe('-n/--name', () => {
  it('titles the master and the workers of a JavaScript app', async () => {
    const bicorn = new BicornProcess(['-n', 'shop', '-w', '2', '-b', '127.0.0.1:0', fixture('apps/fetch.mjs')]);
    await bicorn.listening();
    expect(titles(bicorn.pid)).toEqual({ args: 'bicorn: master [shop]', comm: 'bicorn: master' });
    for (const pid of bicorn.workerPids()) expect(titles(pid)).toEqual({ args: 'bicorn: worker [shop]', comm: 'bicorn: worker' });
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)(`titles a worker's Python process too${noPython}`, async () => {
    const dir = tempDir('bicorn-names-');
    writeFileSync(join(dir, 'app.py'), 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b""]\n');
    const bicorn = new BicornProcess(['--name', 'shop', '-b', '127.0.0.1:0', '--python', 'python3', '--chdir', dir, 'app:application']);
    await bicorn.listening();
    const [python] = children(bicorn.workerPid());
    // setproctitle where the app's environment has it, else the 15 bytes prctl sets.
    const title = await pollUntil('the Python process titled', () => {
      const seen = titles(python ?? -1);
      return seen.comm.startsWith('bicorn: python') ? seen : undefined;
    });
    expect(title.comm).toBe('bicorn: python');
    expect(title.args).toMatch(/^bicorn: python \[shop\]$|\/run\.py /);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

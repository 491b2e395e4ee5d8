import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from '../support/bicorn-process.js';
import { get } from '../support/http.js';
import { pollUntil } from '../support/poll.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a master killed with SIGKILL', () => {
  it('leaves workers that finish the requests in flight, then exit instead of serving on', async () => {
    const bicorn = new BicornProcess(['-w', '2', '-b', '127.0.0.1:0', fixture('apps/fetch.mjs')]);
    const url = await bicorn.listening();
    const workers = bicorn.workerPids();
    expect(workers).toHaveLength(2);
    const slow = get(`${url}/slow?ms=1500`);
    await bicorn.waitForLog('the slow request to start', (l) => l.msg === 'slow request started');
    bicorn.signal('SIGKILL');
    expect(await slow).toMatchObject({ status: 200 });
    await pollUntil('both workers to exit', () => (workers.some(alive) ? undefined : true), 10_000);
    await expect(get(`${url}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await bicorn.exited;
    expect(bicorn.lines.filter((l) => l.msg === 'the master is gone (killed?): finishing the requests in flight, then exiting')).toHaveLength(2);
  });
});

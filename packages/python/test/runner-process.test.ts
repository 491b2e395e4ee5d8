// RunnerProcess with a real runner: what its death leaves on the worker's side of the channels
// it was given.
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { recordingLog } from '@bicorn/test-support';
import { hasPython, startRunner } from './runner-start.js';

describe.skipIf(!hasPython)('RunnerProcess', () => {
  it('survives a Python process that dies with client sockets lent and not yet taken', async () => {
    const { log } = recordingLog();
    const runner = await startRunner('tests.send_vectors:wsgi_app', 'wsgi', log);
    const lender = runner.lender;
    const pid = runner.pid;
    if (lender === undefined || pid === undefined) throw new Error('a runner that cannot be lent sockets');
    // A connected socket to lend, as a worker's client's would be.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    const [accepted] = (await once(server, 'connection')) as [Socket];
    const errors: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      errors.push(error);
    };
    process.on('uncaughtException', onUncaught);
    try {
      // Stopped, it takes none of the loans: the channel's end it dies with still holds them,
      // and closing it resets the worker's.
      process.kill(pid, 'SIGSTOP');
      for (let stream = 1; stream <= 4; stream++) expect(lender.lend(accepted, stream)).toBe(true);
      process.kill(pid, 'SIGKILL');
      expect(await runner.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // The reset surfaces once node reads the worker's end, which it does as the child exits.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });
});

// The real WorkerHost: node:cluster workers running the worker entry given by path, so the
// master never imports worker code. Runs in the master.
import { parseWorkerMessage } from '@bicorn/protocol';
import type { Config } from '@bicorn/config';
import cluster, { type Worker } from 'node:cluster';
import type { Socket } from 'node:net';
import type { Command } from './commands.js';
import type { WorkerHandle, WorkerHost } from './worker-host.js';

export function clusterHost(workerEntry: string, config: Config, enqueue: (command: Command) => void): WorkerHost {
  // stdout and stderr are inherited: workers write their own log lines.
  cluster.setupPrimary({ exec: workerEntry, args: [], silent: false });
  return {
    fork(workerId) {
      const worker = cluster.fork();
      worker.on('message', (raw: unknown) => {
        try {
          const message = parseWorkerMessage(raw);
          if (message.type === 'hello') worker.send({ type: 'boot', workerId, config });
          else enqueue({ type: 'worker-message', workerId, message });
        } catch (error) {
          enqueue({ type: 'worker-invalid-message', workerId, reason: (error as Error).message });
        }
      });
      worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        enqueue({ type: 'worker-exit', workerId, code, signal });
      });
      // A send to a worker that is exiting fails; its exit arrives as a command anyway.
      worker.on('error', () => undefined);
      return handleFor(worker, workerId);
    },
  };
}

function handleFor(worker: Worker, workerId: number): WorkerHandle {
  return {
    id: workerId,
    pid: worker.process.pid,
    send(message) {
      if (worker.isConnected()) worker.send(message);
    },
    kill(signal) {
      worker.process.kill(signal);
    },
    sendConnection(listener: number, socket: Socket, done: (error: Error | null) => void) {
      if (!worker.isConnected()) {
        done(new Error('worker disconnected'));
        return;
      }
      worker.send({ type: 'connection', listener }, socket, { keepOpen: false }, done);
    },
  };
}

// The real WorkerHost: node:cluster workers running the worker entry given by path, so the
// master never imports worker code. Runs in the master.
import { parseWorkerMessage, type WorkerMessage, type WorkerStats } from '@bicorn/protocol';
import { IdTable } from '@bicorn/runtime/id-table';
import cluster, { type Worker } from 'node:cluster';
import { openSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Identity } from './accounts.js';
import type { Served } from './tls-files.js';
import type { Command } from './commands.js';
import { identityEnv } from './privileges.js';
import type { WorkerHandle, WorkerHost } from './worker-host.js';

export interface SpawnOptions {
  /** The user and group workers run as; undefined: the master's. */
  readonly identity: Identity | undefined;
  /**
   * Give the workers the user's supplementary groups (--initgroups). Node's fork sets a uid and
   * gid but clears the groups, so such workers start as root and drop to the user themselves.
   */
  readonly initgroups: boolean;
  /** Inherited listening sockets (fd://, systemd), which workers must not hold. */
  readonly hiddenFds: readonly number[];
}

/** Where the workers' messages go: reports to `onStats`, the rest to the arbiter's queue. */
export interface WorkerMessageSinks {
  readonly enqueue: (command: Command) => void;
  readonly onStats: (workerId: number, stats: WorkerStats) => void;
}

/**
 * Before the master's own flags, which win. A worker's live heap is about 10 MB, so V8 sizes
 * the old generation's first limit from that; the body buffers a worker relays at transfer
 * speed outlive a scavenge or two while the socket takes them, and their bytes count toward that
 * limit: a full mark-compact every 2 MB or so, twenty a second and a third of the worker's CPU
 * on a 500 MB/s download. From 64 MB the young generation frees them, and a worker's memory
 * grows by what it holds in flight, not by the limit.
 */
const WORKER_V8_FLAGS = ['--initial-old-space-size=64'];

export function clusterHost(workerEntry: string, sinks: WorkerMessageSinks, spawn: SpawnOptions): WorkerHost<Served> {
  const { enqueue } = sinks;
  // stdout and stderr are inherited: workers write their own log lines.
  const { identity, initgroups } = spawn;
  cluster.setupPrimary({
    exec: workerEntry,
    execArgv: [...WORKER_V8_FLAGS, ...process.execArgv],
    args: identity !== undefined && initgroups ? [`--initgroups=${String(identity.uid)}:${String(identity.gid)}`] : [],
    silent: false,
    stdio: workerStdio(spawn.hiddenFds),
    ...(identity === undefined || initgroups ? {} : { uid: identity.uid, gid: identity.gid }),
  });
  const env = identityEnv(identity);
  return {
    fork(workerId, served) {
      const { tls, ...config } = served;
      const worker = cluster.fork(env);
      worker.on('message', (raw: unknown) => {
        // Only the parse is the worker's fault: what the arbiter does with a message is not.
        let message: WorkerMessage;
        try {
          message = parseWorkerMessage(raw);
        } catch (error) {
          enqueue({ type: 'worker-invalid-message', workerId, reason: (error as Error).message });
          return;
        }
        if (message.type === 'hello') worker.send({ type: 'boot', workerId, config, tls });
        else if (message.type === 'stats') sinks.onStats(workerId, message);
        else enqueue({ type: 'worker-message', workerId, message });
      });
      worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        enqueue({ type: 'worker-exit', workerId, code, signal });
      });
      // A send to a worker that is exiting fails; its exit arrives as a command anyway. A
      // process that could not be started at all has no pid, and no exit follows.
      worker.on('error', (error: NodeJS.ErrnoException) => {
        if (worker.process.pid === undefined) enqueue({ type: 'worker-spawn-failed', workerId, reason: error.code ?? error.message });
      });
      return handleFor(worker, workerId);
    },
  };
}

/**
 * Descriptors systemd or a parent passed are not close-on-exec, so a child would inherit them
 * and keep the listening sockets open, even to the app's processes. Node cannot set the flag;
 * so in the worker those numbers are overwritten with /dev/null. (fd 3 is the IPC channel.)
 */
function workerStdio(hiddenFds: readonly number[]): (number | 'inherit' | 'ipc' | 'ignore')[] {
  const stdio: (number | 'inherit' | 'ipc' | 'ignore')[] = ['inherit', 'inherit', 'inherit', 'ipc'];
  const hidden = hiddenFds.filter((fd) => fd !== 3);
  if (hidden.length === 0) return stdio;
  const devNull = openSync('/dev/null', 'r');
  for (const fd of hidden.filter((n) => n < 3)) stdio[fd] = devNull;
  for (let fd = 4; fd <= Math.max(...hidden); fd++) stdio.push(hidden.includes(fd) ? devNull : 'ignore');
  return stdio;
}

/** A forked worker as the arbiter and the dispatcher use it. */
export function handleFor(worker: Worker, workerId: number): WorkerHandle {
  // Node passes one handle at a time and queues the rest until the worker acknowledges. If
  // the worker dies meanwhile, node neither calls back for the queued sockets nor closes the
  // one awaiting acknowledgement, and their clients would hang. So: queued sockets are kept
  // here and go to another worker when this one exits, and the master's copy of a socket is
  // closed as soon as it is written to the channel (the kernel holds the descriptor in flight;
  // if the worker never reads it, the connection is closed instead of hanging).
  // Not a Map: one churned by a connection each would keep its garbage alive past the young
  // generation (@bicorn/runtime/id-table). Each send's callback keeps the id of its entry.
  const unsent = new IdTable<(error: Error | null) => void>();
  const redispatchUnsent = (): void => {
    for (const done of unsent.values()) done(new Error('worker went away before taking the connection'));
    unsent.clear();
  };
  worker.once('disconnect', redispatchUnsent);
  worker.once('exit', redispatchUnsent);
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
      const id = unsent.add(done);
      worker.send({ type: 'connection', listener }, socket, { keepOpen: true }, (error) => {
        if (!unsent.delete(id)) return;
        if (error === null) socket.destroy();
        done(error);
      });
    },
  };
}

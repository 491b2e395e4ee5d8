// What the arbiter needs from worker processes, so that its decisions can be tested with a
// fake host and the real one (cluster-host.ts) stays a thin adapter.
import type { MasterMessage } from '@bicorn/protocol';
import type { ConnectionTarget } from './dispatch.js';

export interface WorkerHandle extends ConnectionTarget {
  readonly pid: number | undefined;
  send(message: MasterMessage): void;
  kill(signal: NodeJS.Signals): void;
}

export interface WorkerHost<C> {
  /** Starts a worker with this config; its messages and exit come back to the arbiter as commands. */
  fork(workerId: number, config: C): WorkerHandle;
}

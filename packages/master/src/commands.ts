// The commands the arbiter acts on. Signals, worker messages, exits, file changes and timers
// only enqueue one of these; the arbiter's loop handles them one at a time.
import type { WorkerMessage } from '@bicorn/protocol';

export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGQUIT';
/** HUP reloads, TTIN and TTOU add and remove a worker, USR1 reopens the log files. */
type ControlSignal = 'SIGHUP' | 'SIGTTIN' | 'SIGTTOU' | 'SIGUSR1';
export type MasterSignal = StopSignal | ControlSignal;

/** `C` is the config type; commands from outside the arbiter never carry one. */
export type Command<C = never> =
  | { type: 'signal'; signal: MasterSignal }
  | { type: 'reload'; reason: string }
  | { type: 'worker-message'; workerId: number; message: WorkerMessage }
  | { type: 'worker-invalid-message'; workerId: number; reason: string }
  | { type: 'worker-exit'; workerId: number; code: number | null; signal: NodeJS.Signals | null }
  /** The worker process could not be started at all (EAGAIN: the process limit); no exit follows. */
  | { type: 'worker-spawn-failed'; workerId: number; reason: string }
  | { type: 'config-loaded'; config: C }
  | { type: 'config-failed'; error: unknown }
  /** A held slot is due, or forks were left for the next turn. */
  | { type: 'reconcile-due' }
  | { type: 'heartbeat-due' }
  | { type: 'shutdown-delay-over' }
  | { type: 'stop-overdue'; workerId: number };

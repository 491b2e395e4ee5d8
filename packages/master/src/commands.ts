// The commands the arbiter acts on. Signals, worker messages, exits, file changes and timers
// only enqueue one of these; the arbiter's loop handles them one at a time.
import type { BicornError, StopMode, WorkerMessage } from '@bicorn/protocol';

export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGQUIT';
/** HUP reloads, TTIN and TTOU add and remove a worker, USR1 reopens the log files. */
type ControlSignal = 'SIGHUP' | 'SIGTTIN' | 'SIGTTOU' | 'SIGUSR1';
export type MasterSignal = StopSignal | ControlSignal;

/** A worker count to reach, or a change to the current one. */
export type ScaleChange = { readonly to: number } | { readonly by: number };
export type ScaleResult = { readonly ok: true; readonly from: number; readonly to: number } | { readonly ok: false; readonly reason: string };
/** How a reload ended: the new generation serves, or the old one still does. */
export type ReloadResult = { readonly ok: true; readonly generation: number; readonly workers: number } | { readonly ok: false; readonly reason: string };

/** `C` is the config type; commands from outside the arbiter never carry one. */
export type Command<C = never> =
  | { type: 'signal'; signal: MasterSignal }
  /** `done` hears how this reload ended (or the one it joined, when one was already queued). */
  | { type: 'reload'; reason: string; done?: (result: ReloadResult) => void }
  /** From the control socket; `by` names who asked, for the log. */
  | { type: 'scale'; change: ScaleChange; by: string; done: (result: ScaleResult) => void }
  | { type: 'stop'; mode: StopMode; by: string }
  | { type: 'reopen-logs'; by: string }
  /** Reports (`stats`) go to the control socket and the metrics, never through the arbiter. */
  | { type: 'worker-message'; workerId: number; message: Exclude<WorkerMessage, { type: 'stats' }> }
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
  | { type: 'stop-overdue'; workerId: number }
  /** Something outside the arbiter failed in a way that stops bicorn (a when_ready hook that raised). */
  | { type: 'halt'; error: BicornError };

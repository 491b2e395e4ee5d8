// The commands the arbiter acts on. Signals, worker messages, exits and timers only enqueue
// one of these; the arbiter's loop handles them one at a time.
import type { WorkerMessage } from '@bicorn/protocol';

export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGQUIT';

export type Command =
  | { type: 'signal'; signal: StopSignal }
  | { type: 'worker-message'; workerId: number; message: WorkerMessage }
  | { type: 'worker-invalid-message'; workerId: number; reason: string }
  | { type: 'worker-exit'; workerId: number; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'respawn-due' }
  | { type: 'stop-deadline' };

export { Arbiter, type ArbiterConfig, type ArbiterOptions, type Outcome } from './arbiter.js';
export type { Command, StopSignal } from './commands.js';
export { Dispatcher, type ConnectionTarget } from './dispatch.js';
export { runMaster, type MasterOptions } from './master.js';
export type { WorkerHandle, WorkerHost } from './worker-host.js';

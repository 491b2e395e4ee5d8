export { Arbiter, type ArbiterConfig, type ArbiterEvent, type ArbiterOptions, type Outcome, type Readiness } from './arbiter.js';
export type { Command, MasterSignal } from './commands.js';
export { controlSocketPath, type ControlPath } from './control-path.js';
export { Dispatcher, type ConnectionTarget } from './dispatch.js';
export { runMaster, type MasterOptions } from './master.js';
export type { WorkerHandle, WorkerHost } from './worker-host.js';

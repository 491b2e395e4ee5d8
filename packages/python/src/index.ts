// The whole package: what the master needs (./setup.js, also its own entry) and the relay a worker runs.
export * from './setup.js';
export { HOOK_CONTEXT_VARIABLE } from './hook-context.js';
export type { HostLog } from './log.js';
export { PythonHost } from './python-host.js';
export { RunnerProcess, type RunnerExit, type RunnerOptions } from './runner-process.js';
export { Spool, type SpoolKind } from './spool.js';

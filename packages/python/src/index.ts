export { checkPythonApp, type PythonAppCheck, type PythonAppCheckOptions } from './app-check.js';
export { appEnvironment, readEnvFile, type EnvironmentOptions } from './environment.js';
export { HOOK_CONTEXT_VARIABLE, type HookContext } from './hook-context.js';
export { HookProcess, type HookCall, type HookOutcome, type HookProcessOptions, type MasterHook, type ServerView } from './hook-process.js';
export { readGunicornConfig, type GunicornConfig, type GunicornConfigOptions } from './gunicorn-config.js';
export { findInterpreter, type Interpreter } from './interpreter.js';
export type { HostLog } from './log.js';
export { PythonHost } from './python-host.js';
export { RunnerProcess, type RunnerExit, type RunnerOptions } from './runner-process.js';

// What the master and the CLI need of a Python app before a worker serves it: the interpreter,
// the app's environment, the start-up check, a gunicorn config file and the server hooks. Its
// own entry, so that the master does not load the relay that only workers run (the package's
// root, which exports these too).
export { checkPythonApp, type PythonAppCheck, type PythonAppCheckOptions } from './app-check.js';
export { appEnvironment, readEnvFile, type EnvironmentOptions } from './environment.js';
export type { HookContext } from './hook-context.js';
export { HookProcess, type HookCall, type HookOutcome, type HookProcessOptions, type MasterHook, type ServerView } from './hook-process.js';
export { readGunicornConfig, type GunicornConfig, type GunicornConfigOptions } from './gunicorn-config.js';
export { findInterpreter, type Interpreter } from './interpreter.js';

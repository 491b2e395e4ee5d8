export { checkPythonApp, type PythonAppCheck, type PythonAppCheckOptions } from './app-check.js';
export { appEnvironment, readEnvFile, type EnvironmentOptions } from './environment.js';
export { findInterpreter, type Interpreter } from './interpreter.js';
export type { HostLog } from './log.js';
export { PythonHost } from './python-host.js';
export { RunnerProcess, type RunnerExit, type RunnerOptions } from './runner-process.js';
export { Spool } from './spool.js';

export { assertNever } from './assert-never.js';
export { BicornError, isBicornError, type ErrorCode } from './errors.js';
export { ExitCode, isExitCode } from './exit-code.js';
export {
  parseMasterMessage,
  parseWorkerMessage,
  type Load,
  type MasterMessage,
  type RecycleReason,
  type StopMode,
  type WorkerMessage,
} from './ipc.js';
export * from './frames/index.js';

export { assertNever } from './assert-never.js';
export { BicornError, isBicornError, type ErrorCode } from './errors.js';
export {
  CONTROL_PROTOCOL_VERSION,
  parseControlRequest,
  parseControlResponse,
  type ControlRequest,
  type ControlResponse,
  type StatusReport,
  type WorkerRow,
} from './control.js';
export { ExitCode, isExitCode } from './exit-code.js';
export {
  parseMasterMessage,
  parseWorkerMessage,
  type AppLoad,
  type Load,
  type MasterMessage,
  type RecycleReason,
  type StopMode,
  type TlsBoot,
  type WorkerMessage,
} from './ipc.js';
export {
  appInterfaces,
  durationBuckets,
  limitKinds,
  metricMethods,
  statusClasses,
  type AppInterface,
  type LimitKind,
  type RequestCounts,
  type WorkerStats,
} from './worker-stats.js';
export * from './frames/index.js';

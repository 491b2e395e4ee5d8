export { createAccessLog, jsonAccessLine, prettyAccessLine, type AccessEntry, type AccessLog } from './access-log.js';
export { checkLogFile, type Destination, type LogFormatSetting } from './destination.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel, type ProcessLogger } from './logger.js';
export { formatLine } from './pretty.js';
export { formatBytes, planSpool, SPOOL_SHARE_OF_FREE, type SpoolPlan } from './spool-budget.js';
export { replacementDelay } from './restart-pacing.js';
export { jsonStyles, type JsonStyle } from './json-style.js';

export { createAccessLog, jsonAccessLine, prettyAccessLine, type AccessEntry, type AccessLog } from './access-log.js';
export type { Destination, LogFormatSetting } from './destination.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel, type ProcessLogger } from './logger.js';
export { formatLine } from './pretty.js';

export { createAccessLog, jsonAccessLine, prettyAccessLine, type AccessEntry, type AccessLog } from './access-log.js';
export { checkLogFile, type Destination, type LogFormatSetting } from './destination.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel, type ProcessLogger } from './logger.js';
export { formatLine } from './pretty.js';
export { jsonStyles, type JsonStyle } from './json-style.js';
export { openProcessLogs, type ProcessLogs } from './process-logs.js';
export { StatsdClient, openStatsd, statsdPrefix, type StatsdOptions } from './statsd.js';
export { openUnixDatagram, unixAddress, type UnixDatagramSocket } from './unix-datagram.js';

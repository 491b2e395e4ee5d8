// The logger factory: pino, JSON lines (in the field style of --log-json-style) or pretty, every
// line naming the process role and, in workers, the worker id. Used by master and workers.
import pino from 'pino';
import { openDestination, type Destination, type LogFormatSetting } from './destination.js';
import { jsonStyles, pinoTimestamp, type JsonStyle } from './json-style.js';
import { prettyStream } from './pretty.js';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface LoggerOptions {
  readonly role: 'master' | 'worker';
  readonly workerId?: number;
  readonly level: LogLevel;
  readonly format: LogFormatSetting;
  readonly jsonStyle: JsonStyle;
  /** A file path, or "-" for stdout. */
  readonly destination: string;
  /** Colours in pretty lines (uvicorn's --use-colors); absent or null: when they go to a terminal. */
  readonly colours?: boolean | null;
}

export interface ProcessLogger {
  readonly log: Logger;
  readonly destination: Destination;
}

export function createLogger(options: LoggerOptions): ProcessLogger {
  // The server log is written synchronously: its lines are few, and the last ones matter most.
  const destination = openDestination(options.destination, { setting: 'error_log', format: options.format, sync: true });
  const colours = options.colours ?? (options.destination === '-' && process.stdout.isTTY);
  const stream = destination.pretty ? prettyStream(destination.stream, colours) : destination.stream;
  const base = options.workerId === undefined ? { role: options.role } : { role: options.role, worker: options.workerId };
  // The pretty stream reads pino's own JSON.
  const style = jsonStyles[destination.pretty ? 'pino' : options.jsonStyle];
  const log = pino(
    {
      level: options.level,
      base: { ...style.base, pid: process.pid, ...base },
      messageKey: style.messageKey,
      timestamp: () => pinoTimestamp(style, Date.now()),
      formatters: { level: (label, value) => style.level(label as LogLevel, value) },
      // Keep the error's own name and stack: the app's traceback is what a person needs.
      serializers: { err: pino.stdSerializers.err },
    },
    stream,
  );
  return { log, destination };
}

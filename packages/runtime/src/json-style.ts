// The field names of JSON log lines (--log-json-style), for the log shippers that read them:
// bicorn's own, Elastic's ECS, Google Cloud Logging, Datadog, and pino's. Used by the logger
// factory and by the access log, in master and workers alike.
import type { LogLevel } from './logger.js';

export type JsonStyle = 'bicorn' | 'ecs' | 'gcp' | 'datadog' | 'pino';

export interface JsonStyleSpec {
  /** The time field: its name and value. */
  readonly time: (now: number) => readonly [key: string, value: string | number];
  /** The level field. */
  readonly level: (label: LogLevel, value: number) => Record<string, string | number>;
  readonly messageKey: string;
  /** Where an access line puts the response's status, apart from the level. */
  readonly statusKey: string;
  /** Fields every line carries besides the process's own. */
  readonly base: Readonly<Record<string, string>>;
}

const isoTime =
  (key: string) =>
  (now: number): readonly [string, string] => [key, new Date(now).toISOString()];

/** Cloud Logging's LogSeverity names. */
const gcpSeverity: Readonly<Record<LogLevel, string>> = { trace: 'DEBUG', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'CRITICAL' };

export const jsonStyles: Readonly<Record<JsonStyle, JsonStyleSpec>> = {
  // Level names and ISO 8601 times, which Loki, Vector and Fluent Bit read as they are.
  bicorn: { time: isoTime('time'), level: (label) => ({ level: label }), messageKey: 'msg', statusKey: 'status', base: {} },
  // Elastic Common Schema: @timestamp, log.level, message (the fields ecs-logging libraries write).
  ecs: { time: isoTime('@timestamp'), level: (label) => ({ 'log.level': label }), messageKey: 'message', statusKey: 'status', base: { 'ecs.version': '8.11.0' } },
  // Google Cloud Logging's structured logs: severity, time, message.
  gcp: { time: isoTime('time'), level: (label) => ({ severity: gcpSeverity[label] }), messageKey: 'message', statusKey: 'status', base: {} },
  // Datadog's reserved attributes: status (the level), timestamp, message.
  datadog: { time: isoTime('timestamp'), level: (label) => ({ status: label }), messageKey: 'message', statusKey: 'http.status_code', base: {} },
  // pino's own: numeric levels and milliseconds since the epoch.
  pino: { time: (now) => ['time', now], level: (_label, value) => ({ level: value }), messageKey: 'msg', statusKey: 'status', base: {} },
};

/** The time field as pino's `timestamp` option must write it: `,"key":value`. */
export function pinoTimestamp(style: JsonStyleSpec, now: number): string {
  const [key, value] = style.time(now);
  return `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
}

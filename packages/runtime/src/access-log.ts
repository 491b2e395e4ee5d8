// Access lines: one per finished request, as JSON (in the field style of the server log) or as
// a short readable line. Used by workers.
import { openDestination, type LogFormatSetting } from './destination.js';
import { jsonStyles, type JsonStyle } from './json-style.js';
import { clockTime } from './pretty.js';

export interface AccessEntry {
  readonly remote: string;
  readonly method: string;
  readonly path: string;
  readonly httpVersion: string;
  readonly status: number;
  /** Bytes written to the socket for this response, headers included. */
  readonly bytes: number;
  readonly durationMs: number;
  /** Answered from a static directory (--static) rather than by the app. */
  readonly static?: boolean;
}

export interface AccessLog {
  write(entry: AccessEntry): void;
  /** Writes what is buffered; call before the process exits. */
  flush(): void;
  /** Opens the file again by its path (SIGUSR1, after logrotate). */
  reopen(): void;
}

export function createAccessLog(target: string, format: LogFormatSetting, jsonStyle: JsonStyle, workerId: number): AccessLog {
  // One line per request: written asynchronously, so a slow disk never stalls requests.
  const destination = openDestination(target, { setting: 'access_log', format, sync: false });
  const render = destination.pretty ? (entry: AccessEntry) => prettyAccessLine(entry, Date.now()) : (entry: AccessEntry) => jsonAccessLine(entry, workerId, jsonStyle, Date.now());
  return {
    write: (entry) => {
      destination.stream.write(render(entry));
    },
    flush: destination.flush,
    reopen: destination.reopen,
  };
}

/** The time first, as on the server log's pretty lines. */
export function prettyAccessLine(entry: AccessEntry, now: number): string {
  return `${clockTime(now)} ${entry.remote} "${entry.method} ${entry.path} HTTP/${entry.httpVersion}" ${String(entry.status)} ${String(entry.bytes)} ${entry.durationMs.toFixed(1)}ms${entry.static === true ? ' static' : ''}\n`;
}

/** Shaped as the server log's lines of the same style, at level info. */
export function jsonAccessLine(entry: AccessEntry, workerId: number, jsonStyle: JsonStyle, now: number): string {
  const style = jsonStyles[jsonStyle];
  const [timeKey, time] = style.time(now);
  return `${JSON.stringify({
    [timeKey]: time,
    ...style.level('info', 30),
    ...style.base,
    role: 'worker',
    worker: workerId,
    [style.messageKey]: 'access',
    remote: entry.remote,
    method: entry.method,
    path: entry.path,
    http: entry.httpVersion,
    [style.statusKey]: entry.status,
    bytes: entry.bytes,
    ms: Math.round(entry.durationMs * 100) / 100,
    ...(entry.static === true ? { static: true } : {}),
  })}\n`;
}

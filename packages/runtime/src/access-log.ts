// Access lines: one per finished request, as JSON or as a short readable line. Used by workers.
import { openDestination, type LogFormatSetting } from './destination.js';

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

export function createAccessLog(target: string, format: LogFormatSetting, workerId: number): AccessLog {
  // One line per request: written asynchronously, so a slow disk never stalls requests.
  const destination = openDestination(target, { setting: 'access_log', format, sync: false });
  const render = destination.pretty ? prettyAccessLine : (entry: AccessEntry) => jsonAccessLine(entry, workerId);
  return {
    write: (entry) => {
      destination.stream.write(render(entry));
    },
    flush: destination.flush,
    reopen: destination.reopen,
  };
}

export function prettyAccessLine(entry: AccessEntry): string {
  return `${entry.remote} "${entry.method} ${entry.path} HTTP/${entry.httpVersion}" ${String(entry.status)} ${String(entry.bytes)} ${entry.durationMs.toFixed(1)}ms${entry.static === true ? ' static' : ''}\n`;
}

export function jsonAccessLine(entry: AccessEntry, workerId: number): string {
  return `${JSON.stringify({
    time: Date.now(),
    role: 'worker',
    worker: workerId,
    msg: 'access',
    remote: entry.remote,
    method: entry.method,
    path: entry.path,
    http: entry.httpVersion,
    status: entry.status,
    bytes: entry.bytes,
    ms: Math.round(entry.durationMs * 100) / 100,
    ...(entry.static === true ? { static: true } : {}),
  })}\n`;
}

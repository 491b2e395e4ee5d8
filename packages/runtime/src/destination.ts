// Where log lines go: stdout for "-", else a file opened for appending. Used by master and workers.
import pino from 'pino';

export type LogFormatSetting = 'auto' | 'json' | 'pretty';

export interface Destination {
  readonly stream: pino.DestinationStream;
  readonly pretty: boolean;
  /** Writes what is buffered; call before the process exits. */
  flush(): void;
}

export function openDestination(target: string, format: LogFormatSetting): Destination {
  const toStdout = target === '-';
  // Synchronous writes: a line is on disk or in the pipe before the process can exit.
  const boom = pino.destination({ dest: toStdout ? 1 : target, sync: true, mkdir: !toStdout, append: true });
  const pretty = format === 'pretty' || (format === 'auto' && toStdout && process.stdout.isTTY);
  return { stream: boom, pretty, flush: () => { boom.flushSync(); } };
}

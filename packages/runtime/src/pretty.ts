// The human format of log lines: pino writes JSON into this stream, which prints one short
// line per entry. Used when logging to a terminal or with --log-format pretty.
import type pino from 'pino';

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const levelColours: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
const hidden = new Set(['level', 'time', 'msg', 'pid', 'role', 'worker']);

export function prettyStream(target: pino.DestinationStream, colour: boolean): pino.DestinationStream {
  return {
    write(line: string) {
      target.write(formatLine(line, colour));
    },
  };
}

export function formatLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const time = typeof entry.time === 'number' ? clockTime(entry.time) : '';
  const name = (levelNames[level] ?? String(level)).padEnd(5);
  const tag = typeof entry.worker === 'number' ? `worker ${String(entry.worker)}` : text(entry.role);
  const fields = Object.entries(entry)
    .filter(([key]) => !hidden.has(key) && key !== 'err')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const err = entry.err as { stack?: unknown } | undefined;
  const stack = typeof err?.stack === 'string' ? `\n${err.stack}` : '';
  const shown = colour ? `\u001b[${levelColours[level] ?? '0'}m${name}\u001b[0m` : name;
  return `${time} ${shown} ${tag.padEnd(9)} ${text(entry.msg)}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}

/** HH:MM:SS.mmm, UTC: the time of a pretty line. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

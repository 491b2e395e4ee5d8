// What `bicorn status` prints for people: the server in a few lines, then one row per worker.
// Pure; runs in the CLI.
import type { StatusReport, WorkerRow } from '@bicorn/protocol';

const columns: readonly (readonly [title: string, value: (row: WorkerRow) => string])[] = [
  ['WORKER', (row) => String(row.id)],
  ['PID', (row) => show(row.pid)],
  ['PYTHON', (row) => show(row.pythonPid)],
  ['GEN', (row) => String(row.generation)],
  ['STATE', (row) => row.state],
  ['AGE', (row) => duration(row.ageSeconds)],
  ['SERVED', (row) => show(row.served)],
  ['IN FLIGHT', (row) => show(row.inFlight)],
  ['APP', (row) => (row.appFree === null ? '-' : row.appFree ? 'free' : 'saturated')],
  ['WAITING', (row) => show(row.waiting)],
  ['RSS', (row) => (row.rssBytes === null ? '-' : mebibytes(row.rssBytes))],
  ['PY RESTARTS', (row) => String(row.pythonRestarts)],
  ['RESTART CAUSE', (row) => row.restartCause ?? '-'],
];

export function renderStatus(status: StatusReport): string {
  const lines = [
    `bicorn ${status.version}, pid ${String(status.pid)}, ${status.phase}, up ${duration(status.uptimeSeconds)}: ${status.app}`,
    `generation ${String(status.generation)}, ${plural(status.workers, 'worker')} wanted, ${plural(status.restarts, 'restart')} so far`,
    `listening on ${status.listeners.join(', ')}`,
    `config file: ${status.configFile ?? 'none'}; metrics: ${status.metrics ?? 'off'}`,
    '',
  ];
  const cells = [columns.map(([title]) => title), ...status.rows.map((row) => columns.map(([, value]) => value(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  for (const line of cells) lines.push(line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  return `${lines.join('\n')}\n`;
}

function show(value: number | null): string {
  return value === null ? '-' : String(value);
}

/** 45s, 3m12s, 2h03m, 4d02h. */
export function duration(totalSeconds: number): string {
  const s = Math.floor(totalSeconds);
  if (s < 60) return `${String(s)}s`;
  if (s < 3600) return `${String(Math.floor(s / 60))}m${pad(s % 60)}s`;
  if (s < 86_400) return `${String(Math.floor(s / 3600))}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${String(Math.floor(s / 86_400))}d${pad(Math.floor(s / 3600) % 24)}h`;
}

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}

// The markdown report (results/latest.md): how and where it ran, every server's version, the
// bicorn/peer ratios, and the medians behind them. Pure: returns the text; main writes it.

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function formatThroughput(value) {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

export const formatMs = (value) => (Number.isFinite(value) ? fixed(value, value < 10 ? 2 : 1) : 'n/a');
// Infinity: the peer answered nothing (gunicorn sync under slow clients, say) while bicorn did.
export const formatRatio = (value) => (value === Infinity ? '∞' : Number.isFinite(value) && value > 0 ? `${value.toFixed(2)}×` : 'n/a');

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function validity(cell) {
  if (cell.measured === 0) return `none: ${cell.notes.join('; ').replace(/\|/g, '/') || 'not measured'}`;
  const text = `${cell.validRuns}/${cell.totalRuns}`;
  if (!cell.invalid) return text;
  const why = [
    cell.errors > 0 && `${cell.errors} errors`,
    cell.non2xx > 0 && `${cell.non2xx} non-2xx`,
    cell.unanswered > 0 && `${cell.unanswered} with no answer at all`,
    cell.measured < cell.totalRuns && `${cell.totalRuns - cell.measured} not measured`,
  ].filter(Boolean).join(', ');
  return `**${text} invalid**${why ? ` (${why})` : ''}`;
}

function ratioValidity(row) {
  if (row.valid) return 'yes';
  const bad = [row.bicorn, row.peer].filter((cell) => cell.invalid).map((cell) => cell.server.label);
  return `**no** (${bad.join(', ')})`;
}

function settingsLine(settings) {
  return settings.name === 'quick'
    ? `a \`--quick\` smoke pass (${settings.rounds} round of ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up): it checks the harness, its numbers mean nothing`
    : `${settings.rounds} rounds of ${settings.seconds} s, each after ${settings.warmupSeconds} s of warm-up, servers interleaved (A B A B, never one server's rounds back to back)`;
}

/** The whole report. `facts` from machine.mjs, `settings` the mode, cells and rows from summary.mjs. */
export function renderMarkdown({ facts, settings, cells, rows, notes, elapsedSeconds, command, chartFile }) {
  const versionRows = Object.entries(facts.versions).map(([name, version]) => [name, version ?? 'not installed']);
  const ratioRows = rows.map((row) => [
    row.scenario.title,
    String(row.workers),
    row.bicorn.server.label,
    row.peer.server.label,
    formatRatio(row.throughput),
    formatRatio(row.p50),
    formatRatio(row.p99),
    formatRatio(row.rss),
    formatRatio(row.cpu),
    ratioValidity(row),
  ]);
  const cellRows = cells.map((cell) => [
    cell.scenario.title,
    String(cell.workers),
    cell.server.label,
    `${formatThroughput(cell.throughput)} ${cell.scenario.unit}`,
    formatMs(cell.p50ms),
    formatMs(cell.p99ms),
    fixed(cell.rssMiB, 0),
    fixed(cell.cpuUs, 0),
    validity(cell),
    cell.measured === 0 ? '' : cell.notes.join('; ').replace(/\|/g, '/'),
  ]);
  return `# bicorn benchmarks

\`${command}\` on ${facts.date}, ${elapsedSeconds} s: ${settingsLine(settings)}. Reproduce with \`pnpm build && pnpm bench\` (see scripts/bench/README.md).

## Machine

- CPU: ${facts.cpu}, ${facts.cores} cores; ${fixed(facts.memoryGiB, 1)} GiB of memory
- Kernel: ${facts.kernel}
- Node.js ${facts.node}; Python ${facts.python}
- Load: ${facts.loadTool}, ${facts.loadTool.startsWith('wrk') ? '`-t2 -c64`' : '`-w 2 -c 64`'} (8 connections for the 10 MiB transfers, 64 for WebSockets), on loopback and on the same cores as the servers: the load generator takes CPU from every server alike

## Versions

${table(['server', 'version'], versionRows)}

## Ratios: bicorn / peer

Throughput above 1×, and latency, memory and CPU time per request below 1×, mean bicorn is ahead. Each ratio compares medians at the same worker count. The metrics rows compare bicorn with \`--metrics-bind\` to bicorn without it: their throughput and CPU ratios are the cost of the metrics.

${table(['scenario', '-w', 'bicorn', 'peer', 'throughput', 'p50', 'p99', 'RSS', 'CPU', 'valid'], ratioRows)}

![bicorn/peer throughput ratios](${chartFile})

## Medians

RSS is the whole process tree (master, workers, Python processes; nginx too where it is in front) after the warm-up; CPU µs/req is the user and system time that tree used during the measured run, divided by the requests (or round trips) it answered. A run with any socket error, timeout or non-2xx answer is invalid; medians use the valid runs when there are any.

${table(['scenario', '-w', 'server', 'throughput', 'p50 ms', 'p99 ms', 'RSS MiB', 'CPU µs/req', 'valid runs', 'notes'], cellRows)}

## Notes

${notes.map((note) => `- ${note}`).join('\n')}
`;
}

// The markdown report (results/latest.md): how and where it ran, every server's version, the
// bicorn/peer ratios, the medians behind them with the CPU time of each process per request,
// and each server's start, boot and memory. Pure: returns the text; main writes it.
import { warmupSeconds } from './scenarios.mjs';

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

/** CPU µs per request by role: "master 0.2 + worker 18.1 + python 15.0", a count where a role has several processes. */
export function formatCpuByRole(byRole) {
  if (byRole.length === 0) return 'n/a';
  return byRole.map(({ role, count, us }) => `${role}${count > 1 ? ` ×${count}` : ''} ${fixed(us, 1)}`).join(' + ');
}

/** Memory by role: PSS (private) MiB per process, "master 40 (33), worker ×2 52 (45) each". */
function formatMemoryByRole(byRole) {
  return Object.entries(byRole)
    .map(([role, { count, pss, private: own }]) => `${role}${count > 1 ? ` ×${count}` : ''} ${fixed(pss / count, 0)} (${fixed(own / count, 0)})${count > 1 ? ' each' : ''}`)
    .join(', ');
}

const MiB = 1024 * 1024;

function formatSpooled(server) {
  if (server.spooled === undefined) return server.server.bicorn ? 'none logged' : 'n/a';
  const { request, response } = server.spooled;
  const perRequest = (bytes) => (server.requests > 0 ? `, ${fixed(bytes / MiB / server.requests, 2)} per request` : '');
  return `responses ${fixed(response / MiB, 1)} MiB${perRequest(response)}; requests ${fixed(request / MiB, 1)} MiB${perRequest(request)}`;
}

function settingsLine(settings) {
  return settings.name === 'quick'
    ? `a \`--quick\` smoke pass (${settings.rounds} round of ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up): it checks the harness, its numbers mean nothing`
    : `${settings.rounds} rounds of ${settings.seconds} s, each after a warm-up (${settings.warmupSeconds} s in the first round, ${warmupSeconds(settings, 2)} s later), servers interleaved (A B A B, never one server's rounds back to back)`;
}

/** The whole report. `facts` from machine.mjs, `settings` the mode, cells and rows from summary.mjs. */
export function renderMarkdown({ facts, settings, cells, rows, servers, notes, elapsedSeconds, command, chartFile }) {
  const versionRows = Object.entries(facts.versions).map(([name, version]) => [name, version ?? 'not installed']);
  const ratioRows = rows.map((row) => [
    row.scenario.title,
    String(row.workers),
    row.bicorn.server.label,
    row.peer.server.label,
    formatRatio(row.throughput),
    formatRatio(row.p50),
    formatRatio(row.p99),
    formatRatio(row.cpu),
    formatRatio(row.pss),
    ratioValidity(row),
  ]);
  const cellRows = cells.map((cell) => [
    cell.scenario.title,
    String(cell.workers),
    cell.server.label,
    `${formatThroughput(cell.throughput)} ${cell.scenario.unit}`,
    formatMs(cell.p50ms),
    formatMs(cell.p99ms),
    fixed(cell.cpuUs, 1),
    formatCpuByRole(cell.cpuByRole),
    fixed(cell.pssMiB, 0),
    fixed(cell.otherCores, 2),
    validity(cell),
    cell.measured === 0 ? '' : cell.notes.join('; ').replace(/\|/g, '/'),
  ]);
  const serverRows = servers.map((server) => [
    server.group.title,
    String(server.workers),
    server.server.label,
    fixed(server.startMs / 1000, 2),
    server.workerBootMs.length === 0 ? 'n/a' : server.workerBootMs.map((ms) => fixed(ms, 0)).join(', '),
    server.idle === undefined ? 'n/a' : fixed(server.idle.total.pss, 0),
    server.idle === undefined ? 'n/a' : formatMemoryByRole(server.idle.byRole),
    server.loaded === undefined ? 'n/a' : formatMemoryByRole(server.loaded.byRole),
    formatSpooled(server),
  ]);
  return `# bicorn benchmarks

\`${command}\` on ${facts.date}, ${elapsedSeconds} s: ${settingsLine(settings)}. Reproduce with \`pnpm build && pnpm bench\` (see scripts/bench/README.md).

## Machine

- CPU: ${facts.cpu}, ${facts.cores} cores; ${fixed(facts.memoryGiB, 1)} GiB of memory
- Kernel: ${facts.kernel}
- Node.js ${facts.node}; Python ${facts.python}
- Load: ${facts.loadTool}, ${facts.loadTool.startsWith('wrk') ? '`-t2 -c64`' : '`-w 2 -c 64`'} (8 connections for the 10 MiB transfers and the row that says so, 64 for WebSockets), on loopback and on the same cores as the servers: the load generator takes CPU from every server alike

## Versions

${table(['server', 'version'], versionRows)}

## Ratios: bicorn / peer

Throughput above 1×, and latency, CPU per request and memory below 1×, mean bicorn is ahead. Each ratio compares medians at the same worker count. The metrics rows compare bicorn with \`--metrics-bind\` to bicorn without it: their throughput and CPU ratios are the cost of the metrics.

${table(['scenario', '-w', 'bicorn', 'peer', 'throughput', 'p50', 'p99', 'CPU/req', 'PSS', 'valid'], ratioRows)}

![bicorn/peer throughput ratios](${chartFile})

## Medians

CPU µs/req is the CPU time (user and system, from \`/proc/<pid>/stat\`) that every process of the server's tree spent during the measured run, divided by the requests (or round trips) it answered; "by process" splits it by role: \`master\` (the root of the tree), \`worker\`, \`python\` (bicorn's Python app processes), \`main\` (a root with no children: one process serves), nginx where it is in front. PSS is the proportional set size of the whole tree (\`/proc/<pid>/smaps_rollup\`; pages shared between processes are split among them, so the tree is not counted twice for what its processes share) after the warm-up. Others' load: how many of the machine's cores were busy with work other than the server, the load generator and the harness during the run (from \`/proc/stat\`), a sign of a shared machine. A run with any socket error, timeout or non-2xx answer is invalid; medians use the valid runs when there are any.

${table(['scenario', '-w', 'server', 'throughput', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU by process, µs/req', 'PSS MiB', "others' load", 'valid runs', 'notes'], cellRows)}

## Start, boot and memory

Start: from the spawn of the server to its first 200 answer. Worker boot (bicorn only): from each worker's fork to its readiness, as the master logs it (\`bootMs\` of its \`worker ready\` line). Idle memory: once every server of the group answers, before any load; after load: once the group's last round is over. By process: PSS and, in parentheses, private memory (what the process alone holds), per process. Spooled: the bytes bicorn's workers wrote to temporary files for responses and request bodies over all the group's runs, warm-ups included (logged by each worker as its Python process stops), and per request served.

${table(['group', '-w', 'server', 'start s', 'worker boot ms', 'idle PSS MiB', 'idle memory by process, PSS (private) MiB', 'after load', 'spooled to disk'], serverRows)}

## Notes

${notes.map((note) => `- ${note}`).join('\n')}
`;
}

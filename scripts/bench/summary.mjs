// From runs to what the report shows: per (group, workers, scenario, server) the median of its
// rounds, and the bicorn/peer ratios of the pairs the scenarios declare. A run with errors or
// non-2xx answers is invalid: medians use the valid runs when there are any, and every cell
// says how many runs were valid, so nothing is dropped silently. Pure; no I/O.

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const cellKey = (run) => `${run.group.id}|${run.workers}|${run.scenario.id}|${run.server.id}`;

/** Cells in the order their first run appears (round one follows the plan's order). */
export function summarize(runs) {
  const cells = new Map();
  for (const run of runs) {
    const key = cellKey(run);
    if (!cells.has(key)) cells.set(key, { key, group: run.group, workers: run.workers, scenario: run.scenario, server: run.server, runs: [] });
    cells.get(key).runs.push(run);
  }
  return [...cells.values()].map((cell) => {
    const measured = cell.runs.filter((run) => run.skipped === undefined && run.failed === undefined);
    const valid = measured.filter((run) => run.valid);
    const basis = valid.length > 0 ? valid : measured;
    const notes = [...new Set(cell.runs.flatMap((run) => [run.skipped, run.failed]).filter(Boolean))];
    const slow = measured.filter((run) => run.slowOpen !== undefined);
    if (slow.length > 0) {
      const open = Math.min(...slow.map((run) => run.slowOpen));
      const dropped = slow.reduce((sum, run) => sum + run.slowDropped, 0);
      notes.push(`slow clients connected at the end: at least ${open}/${slow[0].slowCount}; dropped by the server: ${dropped}`);
    }
    return {
      ...cell,
      measured: measured.length,
      validRuns: valid.length,
      totalRuns: cell.runs.length,
      errors: measured.reduce((sum, run) => sum + run.errors, 0),
      non2xx: measured.reduce((sum, run) => sum + run.non2xx, 0),
      unanswered: measured.filter((run) => !(run.requests > 0)).length,
      invalid: valid.length < cell.runs.length,
      throughput: median(basis.map((run) => run.throughput)),
      p50ms: median(basis.map((run) => run.p50ms)),
      p99ms: median(basis.map((run) => run.p99ms)),
      rssMiB: median(basis.map((run) => run.rssMiB)),
      cpuUs: median(basis.map((run) => run.cpuUsPerRequest)),
      notes,
    };
  });
}

/** bicorn/peer for every declared pair whose two cells exist. */
export function ratios(cells) {
  const byKey = new Map(cells.map((cell) => [cell.key, cell]));
  const rows = [];
  for (const peer of cells) {
    for (const bicornId of peer.server.against ?? []) {
      const bicorn = byKey.get(`${peer.group.id}|${peer.workers}|${peer.scenario.id}|${bicornId}`);
      if (bicorn === undefined) continue;
      rows.push({
        group: peer.group,
        scenario: peer.scenario,
        workers: peer.workers,
        bicorn,
        peer,
        throughput: bicorn.throughput / peer.throughput,
        p50: bicorn.p50ms / peer.p50ms,
        p99: bicorn.p99ms / peer.p99ms,
        rss: bicorn.rssMiB / peer.rssMiB,
        cpu: bicorn.cpuUs / peer.cpuUs,
        valid: !bicorn.invalid && !peer.invalid,
      });
    }
  }
  return rows;
}

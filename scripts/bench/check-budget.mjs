#!/usr/bin/env node
// The CPU budget of the hello apps: the CPU µs per request of each bicorn entry, as a ratio to
// its peer's measured in the same run, against the committed figures in budget.json. A ratio
// more than twice its budget is a gross regression and fails (exit 1). Comparing ratios, not
// microseconds, makes the check hold on a machine of another speed; taking the lowest of a
// cell's rounds keeps a noisy neighbour, which only ever adds CPU, from failing it. A pair whose
// lowest runs had other processes using half the machine's cores or more is not judged: bicorn's
// request crosses two processes, which such contention costs far more than a one-process peer
// (8× uvicorn's CPU per request measured at 1.5 busy cores of 2, against 3× on a quiet machine).
//
//   node scripts/bench/check-budget.mjs [results.json]          check (default results/quick.json, what CI writes)
//   node scripts/bench/check-budget.mjs --write [results.json]  make budget.json from a full run (default results/latest.json)
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDir, resultsDir } from './paths.mjs';

const budgetFile = join(benchDir, 'budget.json');

/** What the budget covers: the hello scenarios at one worker, each bicorn entry against its peer. */
export const BUDGET_PAIRS = [
  { group: 'wsgi', scenario: 'hello', server: 'bicorn', peer: 'gunicorn-sync' },
  { group: 'asgi', scenario: 'hello', server: 'bicorn', peer: 'uvicorn' },
  { group: 'js', scenario: 'hello', server: 'bicorn-asgi', peer: 'node-cluster' },
  { group: 'js', scenario: 'hello', server: 'bicorn-fetch', peer: 'node-cluster' },
  { group: 'js', scenario: 'hello', server: 'bicorn-node', peer: 'node-cluster' },
];
const WORKERS = 1;
/** How far past its budget a ratio may go before the check fails. */
export const TOLERANCE = 2;

const cpuOf = (run) => Object.values(run.cpuUsPerRequest ?? {}).reduce((sum, { us }) => sum + us, 0);

/** The valid run of a server's scenario at WORKERS with the lowest CPU µs per request: { us, otherCores }, or undefined. */
function lowestRun(runs, group, scenario, server) {
  const measured = runs
    .filter((r) => r.group === group && r.scenario === scenario && r.server === server && r.workers === WORKERS && r.valid && r.cpuUsPerRequest !== undefined)
    .map((r) => ({ us: cpuOf(r), otherCores: r.otherCores ?? 0 }))
    .filter(({ us }) => Number.isFinite(us) && us > 0);
  return measured.length === 0 ? undefined : measured.reduce((low, run) => (run.us < low.us ? run : low));
}

/** Each pair's CPU per request, its peer's, their ratio and the others' load in `results` (a results/*.json). */
export function measurePairs(results) {
  return BUDGET_PAIRS.map((pair) => {
    const own = lowestRun(results.runs, pair.group, pair.scenario, pair.server);
    const peer = lowestRun(results.runs, pair.group, pair.scenario, pair.peer);
    const ratio = own !== undefined && peer !== undefined ? own.us / peer.us : undefined;
    return { ...pair, us: own?.us, peerUs: peer?.us, ratio, otherCores: Math.max(own?.otherCores ?? 0, peer?.otherCores ?? 0) };
  });
}

/**
 * Compares measured pairs with the budget, on a machine of `cores`:
 * [{ ...pair, budgetRatio, verdict: 'ok' | 'over' | 'busy' | 'unmeasured' }].
 */
export function checkBudget(measured, budget, cores) {
  return measured.map((pair) => {
    const entry = budget.pairs.find((b) => b.group === pair.group && b.scenario === pair.scenario && b.server === pair.server && b.peer === pair.peer);
    if (entry === undefined || pair.ratio === undefined) return { ...pair, budgetRatio: entry?.ratio, verdict: 'unmeasured' };
    if (pair.otherCores >= cores / 2) return { ...pair, budgetRatio: entry.ratio, verdict: 'busy' };
    return { ...pair, budgetRatio: entry.ratio, verdict: pair.ratio > entry.ratio * TOLERANCE ? 'over' : 'ok' };
  });
}

const us = (value) => (value === undefined ? 'n/a' : `${value.toFixed(1)} µs`);
const times = (value) => (value === undefined ? 'n/a' : `${value.toFixed(2)}×`);

function main() {
  const write = process.argv.includes('--write');
  const file = process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? join(resultsDir, write ? 'latest.json' : 'quick.json');
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const measured = measurePairs(results);
  if (write) {
    const missing = measured.filter((pair) => pair.ratio === undefined);
    if (missing.length > 0) throw new Error(`${file} has no valid -w ${WORKERS} runs for ${missing.map((p) => `${p.group}/${p.server} vs ${p.peer}`).join(', ')}`);
    const budget = { from: `${file.slice(file.lastIndexOf('/') + 1)} of ${results.facts.date}, bicorn ${results.facts.versions.bicorn}, on ${results.facts.cpu}`, workers: WORKERS, pairs: measured };
    writeFileSync(budgetFile, `${JSON.stringify(budget, null, 1)}\n`);
    console.log(`check-budget: wrote ${budgetFile}`);
    return 0;
  }
  const budget = JSON.parse(readFileSync(budgetFile, 'utf8'));
  const cores = results.facts.cores ?? availableParallelism();
  const verdicts = checkBudget(measured, budget, cores);
  for (const v of verdicts) {
    const busy = v.verdict === 'busy' ? ` (others used ${v.otherCores.toFixed(2)} of ${String(cores)} cores: not judged)` : '';
    console.log(`check-budget: ${v.group} ${v.scenario}, ${v.server} vs ${v.peer}: ${us(v.us)} / ${us(v.peerUs)} = ${times(v.ratio)} (budget ${times(v.budgetRatio)}, fails past ${times(v.budgetRatio === undefined ? undefined : v.budgetRatio * TOLERANCE)}): ${v.verdict}${busy}`);
  }
  const over = verdicts.filter((v) => v.verdict === 'over');
  const unmeasured = verdicts.filter((v) => v.verdict === 'unmeasured');
  const busy = verdicts.filter((v) => v.verdict === 'busy');
  if (unmeasured.length > 0) console.log(`check-budget: ${unmeasured.length} pair(s) not measured in ${file}; not checked`);
  if (busy.length > 0) console.log(`check-budget: ${busy.length} pair(s) measured while other processes used half the cores or more; not checked (run the bench on a quiet machine)`);
  const judged = verdicts.filter((v) => v.verdict === 'ok' || v.verdict === 'over').length;
  console.log(over.length > 0 ? `check-budget: ${over.length} pair(s) cost more than ${TOLERANCE}× their budgeted CPU per request` : judged === 0 ? 'check-budget: nothing judged' : `check-budget: ${judged} pair(s) within budget`);
  return over.length === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = main();
  } catch (error) {
    console.error(`check-budget: ${error.message ?? error}`);
    process.exitCode = 1;
  }
}

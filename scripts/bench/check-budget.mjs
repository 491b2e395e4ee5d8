#!/usr/bin/env node
// The CPU budget of the hello apps: the CPU µs per request of each bicorn entry, as a ratio to
// its peer's measured in the same run, against the committed figures in budget.json. A ratio
// more than twice its budget is a gross regression and fails (exit 1). Comparing ratios, not
// microseconds, makes the check hold on a machine of another speed; taking the lowest of a
// cell's rounds keeps a noisy neighbour, which only ever adds CPU, from failing it.
//
//   node scripts/bench/check-budget.mjs [results.json]          check (default results/quick.json, what CI writes)
//   node scripts/bench/check-budget.mjs --write [results.json]  make budget.json from a full run (default results/latest.json)
import { readFileSync, writeFileSync } from 'node:fs';
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

/** The lowest CPU µs per request of a server's valid runs of a scenario at WORKERS, or undefined. */
function lowestCpu(runs, group, scenario, server) {
  const values = runs
    .filter((r) => r.group === group && r.scenario === scenario && r.server === server && r.workers === WORKERS && r.valid && r.cpuUsPerRequest !== undefined)
    .map(cpuOf)
    .filter((us) => Number.isFinite(us) && us > 0);
  return values.length === 0 ? undefined : Math.min(...values);
}

/** Each pair's CPU per request, its peer's and their ratio in `results` (a results/*.json). */
export function measurePairs(results) {
  return BUDGET_PAIRS.map((pair) => {
    const us = lowestCpu(results.runs, pair.group, pair.scenario, pair.server);
    const peerUs = lowestCpu(results.runs, pair.group, pair.scenario, pair.peer);
    return { ...pair, us, peerUs, ratio: us !== undefined && peerUs !== undefined ? us / peerUs : undefined };
  });
}

/** Compares measured pairs with the budget: [{ ...pair, budgetRatio, verdict: 'ok' | 'over' | 'unmeasured' }]. */
export function checkBudget(measured, budget) {
  return measured.map((pair) => {
    const entry = budget.pairs.find((b) => b.group === pair.group && b.scenario === pair.scenario && b.server === pair.server && b.peer === pair.peer);
    if (entry === undefined || pair.ratio === undefined) return { ...pair, budgetRatio: entry?.ratio, verdict: 'unmeasured' };
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
  const verdicts = checkBudget(measured, budget);
  for (const v of verdicts) {
    console.log(`check-budget: ${v.group} ${v.scenario}, ${v.server} vs ${v.peer}: ${us(v.us)} / ${us(v.peerUs)} = ${times(v.ratio)} (budget ${times(v.budgetRatio)}, fails past ${times(v.budgetRatio === undefined ? undefined : v.budgetRatio * TOLERANCE)}): ${v.verdict}`);
  }
  const over = verdicts.filter((v) => v.verdict === 'over');
  const unmeasured = verdicts.filter((v) => v.verdict === 'unmeasured');
  if (unmeasured.length > 0) console.log(`check-budget: ${unmeasured.length} pair(s) not measured in ${file}; not checked`);
  console.log(over.length === 0 ? 'check-budget: within budget' : `check-budget: ${over.length} pair(s) cost more than ${TOLERANCE}× their budgeted CPU per request`);
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

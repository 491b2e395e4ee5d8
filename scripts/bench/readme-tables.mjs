#!/usr/bin/env node
// The two tables of the README's Performance section, made from a bench report: the CPU per
// request of each process at -w 1, and the ratios to the peers (without the p50, validity,
// HTTP/2, static and metrics rows, which the prose or scripts/bench cover). test/readme.test.ts
// checks that the README holds the tables of results/latest.md; after a full run,
// `node scripts/bench/readme-tables.mjs [report]` prints them to paste.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tables } from './check-report.mjs';
import { resultsDir } from './paths.mjs';

/** The rows of the first table under the section titled `title`. */
function sectionRows(report, title) {
  const section = report.split('\n## ').find((text) => text.startsWith(title));
  const [first] = section === undefined ? [] : tables(section);
  if (first === undefined) throw new Error(`the report has no table under "${title}"`);
  return first.rows;
}

const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (header, rows) => [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');

/** "master 0.5 + worker 33.2 + python 29.7" without the master, which idles during a run. */
const withoutMaster = (byProcess) => byProcess.split(' + ').filter((part) => !part.startsWith('master')).join(' + ');
/** The rows at a steady rate, where bicorn's master is not idle: a cost per request there is what they are for. */
const PACED = / at [\d,]+ req\/s$/;

const CPU_ROWS = [
  ['WSGI hello', 'gunicorn sync'],
  ['ASGI hello', 'uvicorn'],
  ['Starlette JSON', 'uvicorn'],
  ['Django view', 'gunicorn sync'],
  ['WebSocket echo', 'uvicorn', 'WebSocket echo (per round trip)'],
  ['WSGI hello at 1,000 req/s', 'gunicorn sync'],
  ['ASGI hello at 1,000 req/s', 'uvicorn'],
];
const JS_SERVERS = ['bicorn js asgi', 'bicorn js fetch', 'bicorn js node'];

export function readmeTables(report) {
  // Medians: scenario, -w, server, throughput, p50, p99, CPU, CPU by process, ...
  const medians = sectionRows(report, 'Medians');
  const byProcess = (scenario, server, keepMaster = false) => {
    const found = medians.find((cells) => cells[0] === scenario && cells[1] === '1' && cells[2] === server);
    if (found === undefined) return 'n/a';
    return keepMaster ? found[7] : withoutMaster(found[7]);
  };
  // A peer of one process reports it as its worker (gunicorn) or its main process (uvicorn).
  const peerCpu = (scenario, server) => `${server} ${byProcess(scenario, server).replace(/^(worker|main)(?: ×\d+)? /, '')}`;
  const cpuRows = CPU_ROWS.map(([scenario, peer, label = scenario]) => [label, byProcess(scenario, 'bicorn', PACED.test(scenario)), peerCpu(scenario, peer)]);
  const jsWorkers = JS_SERVERS.map((server) => byProcess('JS hello', server).replace(/^worker /, '')).join(', ');
  cpuRows.push(['JS hello (asgi, fetch, node interfaces)', `worker ${jsWorkers}`, peerCpu('JS hello', 'node:http cluster')]);

  // Ratios: scenario, -w, bicorn, peer, throughput, p50, p99, CPU, PSS, valid
  const ratios = sectionRows(report, 'Ratios')
    .filter(([scenario, , , peer]) => peer !== 'bicorn' && !peer.startsWith('bicorn,') && !/HTTP\/2|h2|^Static|^Metrics/.test(scenario))
    .map(([scenario, workers, bicorn, peer, throughput, , p99, cpu, pss]) => [scenario, workers, bicorn, peer, throughput, p99, cpu, pss]);
  return {
    cpu: table(['app', 'bicorn', 'peer'], cpuRows),
    ratios: table(['scenario', '-w', 'bicorn', 'peer', 'throughput', 'p99', 'CPU/req', 'PSS'], ratios),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { cpu, ratios } = readmeTables(readFileSync(process.argv[2] ?? join(resultsDir, 'latest.md'), 'utf8'));
  process.stdout.write(`${cpu}\n\n${ratios}\n`);
}

#!/usr/bin/env node
// `pnpm bench`: bicorn side by side with gunicorn, uvicorn, hypercorn, granian and a raw node
// cluster, interleaved, reported as bicorn/peer ratios in results/<name>.md and .svg. Prints
// its time budget first and keeps to it; stops every process it started, by PID; loopback only.
//
//   pnpm bench [--quick] [--only wsgi,asgi,...] [--workers 1,2] [--rounds N] [--seconds S]
//              [--warmup S] [--load wrk|autocannon]
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderSvg } from './chart.mjs';
import { checkReport } from './check-report.mjs';
import { createDjangoDb } from './django-db.mjs';
import { execFileSync } from 'node:child_process';
import { findH2load, findLoadTool } from './load.mjs';
import { machineFacts } from './machine.mjs';
import { nginxPath } from './nginx.mjs';
import { bicornDist, resultsDir, venvBin } from './paths.mjs';
import { stopAll, stopAllOnSignals } from './processes.mjs';
import { renderMarkdown } from './report.mjs';
import { runGroup } from './run.mjs';
import { groups, loadDefaults, modes, runsAt, warmupSeconds } from './scenarios.mjs';
import { writeStaticFiles } from './static.mjs';
import { ratios, summarize } from './summary.mjs';

const usage = `usage: pnpm bench [--quick] [--only ${groups.map((g) => g.id).join(',')}] [--workers 1,2] [--rounds N] [--seconds S] [--warmup S] [--load wrk|autocannon]`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      workers: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      load: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const mode = values.quick ? modes.quick : modes.full;
  const positive = (text, name) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer, got "${text}"`);
    return value;
  };
  const only = values.only?.split(',').filter(Boolean);
  for (const id of only ?? []) if (!groups.some((g) => g.id === id)) throw new Error(`--only: no group "${id}"; groups: ${groups.map((g) => g.id).join(', ')}`);
  const settings = {
    ...mode,
    rounds: values.rounds === undefined ? mode.rounds : positive(values.rounds, 'rounds'),
    seconds: values.seconds === undefined ? mode.seconds : positive(values.seconds, 'seconds'),
    warmupSeconds: values.warmup === undefined ? mode.warmupSeconds : positive(values.warmup, 'warmup'),
    load: loadDefaults,
  };
  const workers = values.workers?.split(',').map((w) => positive(w, 'workers'));
  const custom = only !== undefined || workers !== undefined || values.rounds !== undefined || values.seconds !== undefined || values.warmup !== undefined;
  // A smoke pass or a partial run never overwrites the full results a README quotes.
  const name = values.quick ? 'quick' : custom ? 'partial' : 'latest';
  if (values.load !== undefined && !['wrk', 'autocannon'].includes(values.load)) throw new Error(`--load: expected wrk or autocannon, got "${values.load}"`);
  return { settings, only, workers, name, prefer: values.load };
}

/** What can run here: the bicorn build, the peers' venv, a load tool, nginx. Exits 2 if not. */
function preflight(prefer) {
  const fail = (message) => {
    console.error(`bench: ${message}`);
    process.exit(2);
  };
  if (!existsSync(bicornDist)) fail('bicorn is not built; run `pnpm build` first');
  if (!existsSync(join(venvBin, 'python'))) fail(`no Python venv at ${venvBin}; run \`bash scripts/python-env.sh\` (pnpm python:setup), or set BENCH_VENV`);
  const tool = findLoadTool(prefer);
  if (tool === undefined) fail('neither wrk nor autocannon is installed; run `bash scripts/bench/setup.sh` (apt-get install wrk)');
  const skip = new Map();
  const binaries = { gunicorn: 'gunicorn', uvicorn: 'uvicorn', hypercorn: 'hypercorn', granian: 'granian' };
  const h2load = findH2load();
  for (const group of groups) {
    if (h2load === undefined && group.scenarios.some((s) => s.load === 'h2')) {
      for (const entry of group.servers) skip.set(`${group.id}/${entry.id}`, 'h2load is not installed (bash scripts/bench/setup.sh: apt-get install nghttp2-client)');
    }
    if (group.needsTls && !hasOpenssl()) {
      for (const entry of group.servers) skip.set(`${group.id}/${entry.id}`, 'openssl is not installed (it makes the certificate)');
    }
    for (const entry of group.servers) {
      const binary = binaries[entry.server];
      if (binary !== undefined && !existsSync(join(venvBin, binary))) skip.set(`${group.id}/${entry.id}`, `${binary} is not in the venv (bash scripts/python-env.sh)`);
      if ((entry.nginx || entry.server === 'nginx-static') && nginxPath() === undefined) skip.set(`${group.id}/${entry.id}`, 'nginx is not installed (bash scripts/bench/setup.sh)');
    }
  }
  return { tool: { ...tool, h2load }, skip };
}

function hasOpenssl() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for 127.0.0.1, for the HTTPS scenarios (every server gets the same). */
function makeCertificate(dir) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  return { BENCH_TLS_CERT: cert, BENCH_TLS_KEY: key };
}

// Measured: a start takes 0.2-2 s, a stop under 1 s, a run's checks and /proc reads a fraction of one.
const START_SECONDS = 2;
const RUN_OVERHEAD_SECONDS = 0.5;

function estimateSeconds(plan, settings) {
  let total = 10;
  for (const { group, workers } of plan) {
    total += group.servers.length * (START_SECONDS + 1);
    for (const scenario of group.scenarios.filter((s) => runsAt(s, settings, workers))) {
      const servers = group.servers.filter((entry) => scenario.servers === undefined || scenario.servers.includes(entry.id)).length;
      for (let round = 1; round <= settings.rounds; round += 1) {
        total += servers * (warmupSeconds(settings, round, scenario) + settings.seconds + RUN_OVERHEAD_SECONDS + (scenario.slowClients ? 1 : 0));
      }
    }
  }
  return Math.round(total);
}

function methodNotes(settings, tool, facts) {
  return [
    `Each group of servers starts once per worker count; then every round runs each scenario against each server in turn, so drift on the machine spreads over all servers. Medians of ${settings.rounds} round(s).`,
    `${tool.name} runs with ${tool.name === 'wrk' ? '`-t2`' : '`-w 2`'} on the same ${facts.cores} cores as the servers: it competes with them for CPU, as it does on any single-box benchmark; the ratios are fairer than the absolute numbers.`,
    'Peers as they are deployed: gunicorn `-k sync`, and `-k gthread --threads 4` (against `bicorn --threads 4`); uvicorn `--http httptools --loop uvloop --no-access-log`; hypercorn `-k uvloop` (bicorn and uvicorn use uvloop too); granian `--interface wsgi|asgi`; a raw node:http cluster running the same listener as bicorn\'s node-interface app. Every server logs at warning level or less, with no access log.',
    'The rows "at 1,000 req/s" send hello requests at that rate in all, each when it is due, on a free one of 64 keep-alive connections (our own `paced-load.mjs`: wrk pauses only on an open connection, where gunicorn\'s sync worker, which reads one connection at a time, would wait out every pause), below what any server here can serve, as most deployed apps run: every process is woken for each request, which costs more CPU per request than full load does. Both servers keep the rate, so the throughput ratio is about 1× and says nothing; CPU per request and latency are what to read. The chart leaves them out.',
    'The 10 MiB transfers use 8 connections; throughput is in MiB/s of request or response bodies. WebSocket echo: 64 clients, each sending 32 bytes and waiting for the echo before the next.',
    'Slow clients: 200 connections send a request head and then 16 bytes a second of a 1 MB body, for the whole run, while the load generator measures requests/s on `/`. gunicorn\'s sync worker needs a buffering proxy in front for this (its docs say so): it is measured behind nginx (1 worker process, counted in its memory and CPU and sharing the cores) and alone, to show why.',
    'Static files: one folder (a 2 KiB stylesheet, a 1 MiB image that bicorn keeps in memory, an 8 MiB video that it streams from disk, on 8 connections) served under /static/ by bicorn `--static`, by nginx (`alias`, sendfile, `expires 60s`, as many workers as the others) and by WhiteNoise 6 (production settings) in front of the hello app under gunicorn `-k sync` (which closes each connection) and `-k gthread --threads 4` (keep-alive).',
    'HTTP/2: h2load (nghttp2) with 16 connections of 4 streams each (64 requests at once, as wrk\'s 64 connections), h2c with prior knowledge against bicorn `--http-protocols h2,h1 --http2-cleartext prior-knowledge` and hypercorn `-k uvloop` (which serves h2c on its plain bind); h2load gives no latency percentiles. HTTPS: HTTP/1.1 over TLS (a P-256 self-signed certificate, TLS 1.3), wrk against bicorn `--certfile`, gunicorn `--certfile` and uvicorn `--ssl-certfile`.',
    'Latency percentiles come from the load generator (wrk\'s `--latency` distribution, or autocannon\'s; for WebSockets, each round trip). The answer to a GET is checked to be a 200 before each run; wrk counts only 4xx and 5xx as non-2xx.',
  ];
}

/** A run as plain data, for results/<name>.json. */
function rawRun(run) {
  const { group, scenario, server, ...fields } = run;
  return { group: group.id, scenario: scenario.id, server: server.id, ...fields };
}

/** A server's start and memory record as plain data. */
function rawServer(record) {
  const { group, server, ...fields } = record;
  return { group: group.id, server: server.id, ...fields };
}

async function main() {
  const { settings, only, workers, name, prefer } = options();
  const { tool, skip } = preflight(prefer);
  const plan = groups
    .filter((group) => only === undefined || only.includes(group.id))
    .flatMap((group) => (workers ?? group.workers[settings.name]).map((w) => ({ group, workers: w })));
  const budget = estimateSeconds(plan, settings);
  const softLimit = budget * 1.5 + 60;
  const hardLimit = budget * 2 + 120;
  console.log(`bench: time budget about ${Math.ceil(budget / 60)} min (${budget} s) for ${plan.length} group runs, ${settings.rounds} round(s) of ${settings.seconds} s after ${settings.warmupSeconds} s of warm-up (${warmupSeconds(settings, 2)} s after the first round); no new run after ${Math.ceil(softLimit / 60)} min, everything stopped at ${Math.ceil(hardLimit / 60)} min`);
  console.log(`bench: load from ${tool.name} ${tool.version}; results go to scripts/bench/results/${name}.md and ${name}.svg`);

  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const work = mkdtempSync(join(tmpdir(), 'bicorn-bench-'));
  let interrupted = false;
  stopAllOnSignals(
    () => rmSync(work, { recursive: true, force: true }),
    (signal) => {
      interrupted = true;
      console.error(`bench: ${signal}: stopping every process it started`);
    },
  );
  const hardTimer = setTimeout(() => {
    console.error(`bench: past the hard limit of ${Math.ceil(hardLimit / 60)} min; stopping`);
    void stopAll().finally(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(1);
    });
  }, hardLimit * 1000);
  hardTimer.unref();

  const facts = machineFacts(tool);
  const records = [];
  const servers = [];
  const startFailures = [];
  try {
    let djangoDb;
    let staticRoot;
    let certificate;
    for (const { group, workers: w } of plan) {
      console.log(`bench: ${group.title}, -w ${w} (${Math.round(elapsed())} s in)`);
      if (group.needsDjangoDb && djangoDb === undefined) djangoDb = await createDjangoDb(work);
      if (group.needsStaticFiles && staticRoot === undefined) staticRoot = writeStaticFiles(work);
      if (group.needsTls && certificate === undefined && hasOpenssl()) certificate = makeCertificate(work);
      const env = { ...(group.needsDjangoDb ? { BENCH_DJANGO_DB: djangoDb } : {}), ...(group.needsStaticFiles ? { BENCH_STATIC_ROOT: staticRoot } : {}), ...(group.needsTls ? certificate : {}) };
      const app = { ...group.app, env };
      const groupSkip = new Map(group.servers.filter((e) => skip.has(`${group.id}/${e.id}`)).map((e) => [e.id, skip.get(`${group.id}/${e.id}`)]));
      const result = await runGroup({
        group: { ...group, app },
        workers: w,
        settings,
        tool,
        skip: groupSkip,
        shouldStop: () => interrupted || elapsed() > softLimit,
        log: (line) => console.log(line),
      });
      records.push(...result.records);
      servers.push(...result.servers);
      startFailures.push(...result.startFailures);
    }
  } finally {
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  }

  const cells = summarize(records);
  const rows = ratios(cells);
  const notes = methodNotes(settings, tool, facts);
  if (startFailures.length > 0) notes.push(...startFailures.map((failure) => `Did not start: ${failure}`));
  const command = `pnpm bench${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const markdown = renderMarkdown({ facts, settings, cells, rows, servers, notes, elapsedSeconds: Math.round(elapsed()), command, chartFile: `${name}.svg` });
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.md`), markdown);
  // Paced rows are left out: both servers keep the rate, so their throughput ratio says nothing.
  writeFileSync(join(resultsDir, `${name}.svg`), renderSvg({ facts, rows: rows.filter((row) => row.scenario.load !== 'paced'), title: `bicorn / peer throughput (${settings.name === 'quick' ? 'smoke pass: meaningless numbers' : `medians of ${settings.rounds} rounds`})` }));
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify({ facts, settings, runs: records.map(rawRun), servers: servers.map(rawServer) }, null, 1)}\n`);
  console.log(`\n${markdown}`);

  const expected = [...new Set(plan.flatMap(({ group, workers }) => group.scenarios.filter((s) => runsAt(s, settings, workers)).map((s) => s.title)))];
  const problems = checkReport(markdown, expected);
  for (const problem of problems) console.error(`bench: report check: ${problem}`);
  console.log(`bench: done in ${Math.round(elapsed())} s; ${records.filter((r) => r.valid).length} valid runs of ${records.length}; report ${problems.length === 0 ? 'valid' : 'INVALID'}`);
  clearTimeout(hardTimer);
  // Speeds never fail the run; a server that did not start or a malformed report does.
  return problems.length === 0 && startFailures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`bench: ${error.message ?? error}`);
    void stopAll().finally(() => process.exit(1));
  },
);

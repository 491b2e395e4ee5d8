// How much of a request's CPU time is the app's and how much the server's, for bicorn and
// gunicorn sync serving the bench's Django view at one worker: the view runs inside
// app_cpu.py, which adds up the CPU time of each call, and each server's process tree is read
// from /proc around the same wrk runs, in interleaved rounds. Where the app's own time is most
// of what a peer spends, no server can be much faster than that peer (scripts/bench/README.md,
// "The floor of two processes"). Not part of `pnpm bench`.
//   node scripts/bench/floor/app_share.mjs [rounds=3] [seconds=5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDjangoDb } from '../django-db.mjs';
import { findLoadTool, runHttpLoad } from '../load.mjs';
import { appsDir } from '../paths.mjs';
import { stopAll, stopAllOnSignals } from '../processes.mjs';
import { cpuBetween } from '../run.mjs';
import { loadDefaults } from '../scenarios.mjs';
import { get, startServer } from '../servers.mjs';

const [rounds = '3', seconds = '5'] = process.argv.slice(2);
const djangoDir = join(appsDir, 'django_site');
const floorDir = fileURLToPath(new URL('.', import.meta.url));
const servers = [
  { id: 'bicorn', label: 'bicorn', server: 'bicorn', interface: 'wsgi' },
  { id: 'gunicorn-sync', label: 'gunicorn sync', server: 'gunicorn', workerClass: 'sync' },
];

/** The app's calls and CPU seconds so far, from its one process. */
async function appCpu(base) {
  const { status, body } = await get(`${base}/__app_cpu`);
  const [calls, cpuSeconds] = body.split(' ').map(Number);
  if (status !== 200 || !Number.isFinite(calls) || !Number.isFinite(cpuSeconds)) throw new Error(`${base}/__app_cpu answered ${status}: ${body}`);
  return { calls, cpuSeconds };
}

/**
 * One measured run after `warmupSeconds` of the same load: CPU µs per request of the tree by
 * role, and of the app inside it.
 */
async function measure(handle, tool, warmupSeconds) {
  const spec = { ...loadDefaults, url: `${handle.base}/items/`, seconds: warmupSeconds };
  await runHttpLoad(tool, spec);
  const app0 = await appCpu(handle.base);
  const tree0 = handle.processes();
  const load = await runHttpLoad(tool, { ...spec, seconds: Number(seconds) });
  const tree1 = handle.processes();
  const app1 = await appCpu(handle.base);
  const calls = app1.calls - app0.calls;
  const us = (cpuSeconds) => (cpuSeconds * 1e6) / calls;
  const byRole = Object.fromEntries(Object.entries(cpuBetween(tree0, tree1).byRole).map(([role, { seconds: s }]) => [role, us(s)]));
  const tree = Object.values(byRole).reduce((sum, value) => sum + value, 0);
  return { rps: load.requestsPerSecond, tree, app: us(app1.cpuSeconds - app0.cpuSeconds), byRole };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (value) => value.toFixed(0).padStart(5);

const tool = findLoadTool('wrk');
if (tool === undefined) throw new Error('neither wrk nor autocannon found (scripts/bench/setup.sh installs wrk)');
const work = mkdtempSync(join(tmpdir(), 'bicorn-app-share-'));
// Interrupted or failing, it leaves none of the servers it started running.
stopAllOnSignals(() => rmSync(work, { recursive: true, force: true }));
const handles = [];
try {
  const app = {
    kind: 'python',
    cwd: djangoDir,
    target: 'app_cpu:application',
    probe: '/items/',
    expect: 'Items in stock',
    env: { BENCH_DJANGO_DB: await createDjangoDb(work), APP_CPU_TARGET: 'bench_site.wsgi:application', PYTHONPATH: `${djangoDir}:${floorDir}` },
  };
  for (const entry of servers) handles.push(await startServer(entry, app, 1));
  const results = new Map(servers.map((entry) => [entry.label, []]));
  console.log(`CPU µs per request, Django view, -w 1, ${tool.name} -t${loadDefaults.threads} -c${loadDefaults.connections}, ${seconds} s runs`);
  console.log('round server          req/s   tree    app server  (by role)');
  for (let round = 1; round <= Number(rounds); round += 1) {
    for (const handle of handles) {
      // The first round warms longer: at a few hundred requests a second, V8 is still
      // optimizing bicorn's worker for its first few seconds.
      const run = await measure(handle, tool, round === 1 ? 6 : 1);
      results.get(handle.label).push(run);
      const roles = Object.entries(run.byRole).map(([role, value]) => `${role} ${value.toFixed(0)}`).join(', ');
      console.log(`${String(round).padStart(5)} ${handle.label.padEnd(14)} ${run.rps.toFixed(0).padStart(6)} ${fmt(run.tree)}  ${fmt(run.app)}  ${fmt(run.tree - run.app)}  (${roles})`);
    }
  }
  console.log('medians:');
  for (const [label, runs] of results) {
    const tree = median(runs.map((r) => r.tree));
    const app = median(runs.map((r) => r.app));
    console.log(`  ${label.padEnd(14)} req/s ${median(runs.map((r) => r.rps)).toFixed(0)}, tree ${tree.toFixed(0)} µs, app ${app.toFixed(0)} µs, server ${median(runs.map((r) => r.tree - r.app)).toFixed(0)} µs`);
  }
} finally {
  for (const handle of handles) await handle.stop();
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}

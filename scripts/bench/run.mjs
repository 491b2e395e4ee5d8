// Measuring one group at one worker count: start every server of the group, take their idle
// memory, then for each round run each scenario against each server in turn (A B A B: never one
// server's rounds back to back), then stop them all. Returns one record per (round, scenario,
// server), skipped and failed runs included, and one per server with its start and memory.
// Runs in the harness process.
import { runH2Load, runHttpLoad, runPacedLoad, runWsEcho } from './load.mjs';
import { harnessCpuSeconds, machineBusySeconds, memoryKiB } from './processes.mjs';
import { runsAt, warmupSeconds } from './scenarios.mjs';
import { get, startServer } from './servers.mjs';
import { formatMs } from './report.mjs';
import { startSlowClients } from './slow-clients.mjs';

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function serversOf(group, scenario) {
  return group.servers.filter((entry) => scenario.servers === undefined || scenario.servers.includes(entry.id));
}

async function waitForSlowClients(slow, count) {
  const deadline = Date.now() + 5000;
  while (slow.open() < count && Date.now() < deadline) await sleep(50);
}

/** Memory of every process of a server's tree now: { total: { pss, private, rss }, byRole: { role: { count, pss, private, rss } } } in MiB. */
export function treeMemory(processes) {
  const total = { pss: 0, private: 0, rss: 0 };
  const byRole = {};
  for (const { pid, role } of processes) {
    const kib = memoryKiB(pid);
    byRole[role] ??= { count: 0, pss: 0, private: 0, rss: 0 };
    byRole[role].count += 1;
    for (const key of ['pss', 'private', 'rss']) {
      total[key] += kib[key] / 1024;
      byRole[role][key] += kib[key] / 1024;
    }
  }
  return { total, byRole };
}

/**
 * CPU time each role of a tree spent between two snapshots of treeProcesses, in seconds:
 * { role: { count, seconds } }. A process that started meanwhile counts from zero; one that
 * ended meanwhile is lost, and counted in `gone`.
 */
export function cpuBetween(before, after) {
  const earlier = new Map(before.map((p) => [p.pid, p.cpuSeconds]));
  const byRole = {};
  for (const { pid, role, cpuSeconds } of after) {
    byRole[role] ??= { count: 0, seconds: 0 };
    byRole[role].count += 1;
    byRole[role].seconds += cpuSeconds - (earlier.get(pid) ?? 0);
  }
  const alive = new Set(after.map((p) => p.pid));
  return { byRole, gone: before.filter((p) => !alive.has(p.pid)).length };
}

/** One measured run: an answer check, the slow clients if any, warm-up, memory, the measurement with the CPU time of the server's processes. */
async function measure(handle, scenario, settings, tool, round) {
  const spec = {
    ...settings.load,
    url: handle.base + scenario.path,
    connections: scenario.connections ?? settings.load.connections,
    bodyBytes: scenario.bodyBytes,
  };
  // An HTTP/2 scenario's servers answer HTTP/1.1 on the same address too.
  if (scenario.load !== 'ws' && scenario.bodyBytes === undefined) {
    const answer = await get(spec.url, 10_000).catch((error) => ({ status: String(error) }));
    if (answer.status !== 200) return { failed: `GET ${scenario.path} answered ${answer.status} before the run` };
  }
  let slow;
  if (scenario.slowClients !== undefined) {
    const port = Number(new URL(handle.base).port);
    slow = startSlowClients({ port, ...scenario.slowClients });
    await waitForSlowClients(slow, scenario.slowClients.count);
  }
  try {
    const runLoad = (seconds) => {
      if (scenario.load === 'ws') return runWsEcho({ ...spec, seconds });
      if (scenario.load === 'paced') return runPacedLoad({ ...spec, rate: scenario.rate, seconds });
      if (scenario.load === 'h2') return runH2Load(tool.h2load, { ...spec, streams: scenario.streams, seconds });
      return runHttpLoad(tool, { ...spec, seconds });
    };
    const warmup = await runLoad(warmupSeconds(settings, round, scenario));
    const memory = treeMemory(handle.processes());
    const before = handle.processes();
    const busyBefore = machineBusySeconds();
    const harnessBefore = harnessCpuSeconds();
    const measured = await runLoad(settings.seconds);
    const cpu = cpuBetween(before, handle.processes());
    // What else kept the machine busy meanwhile (other users' work), in cores: all busy time
    // less the server's, the load generator's and the harness's.
    const serverSeconds = Object.values(cpu.byRole).reduce((sum, { seconds }) => sum + seconds, 0);
    const otherSeconds = machineBusySeconds() - busyBefore - serverSeconds - (harnessCpuSeconds() - harnessBefore);
    // With no answer at all there is no latency to speak of (wrk prints 0 us).
    const result = measured.requests > 0 ? measured : { ...measured, p50ms: Number.NaN, p99ms: Number.NaN };
    const throughput = scenario.bytesPerRequest === undefined ? result.requestsPerSecond : (result.requestsPerSecond * scenario.bytesPerRequest) / MiB;
    return {
      ...result,
      throughput,
      warmupRequests: warmup.requests,
      rssMiB: memory.total.rss,
      pssMiB: memory.total.pss,
      memory,
      // CPU µs per request (or round trip) of each role of the tree, over the measured run.
      cpuUsPerRequest: Object.fromEntries(Object.entries(cpu.byRole).map(([role, { count, seconds }]) => [role, { count, us: (seconds * 1e6) / result.requests }])),
      cpuProcessesGone: cpu.gone,
      otherCores: Math.max(0, otherSeconds / settings.seconds),
      valid: result.errors === 0 && result.non2xx === 0 && result.requests > 0,
      ...(slow === undefined ? {} : { slowOpen: slow.open(), slowDropped: slow.dropped(), slowCount: scenario.slowClients.count }),
    };
  } catch (error) {
    return { failed: String(error.message ?? error).split('\n')[0] };
  } finally {
    slow?.stop();
  }
}

/**
 * Runs `group` at `workers`: `skip` maps server ids of this group to a reason they cannot run
 * here (a tool not installed); `shouldStop()` is the time budget; `log` prints progress lines.
 * Resolves { records, servers, startFailures }: `servers` one record per server started, with
 * its start time, its workers' boot times, its idle memory (all servers started, before any
 * load) and its memory after the last round, and the bytes bicorn spooled to disk over the group's runs.
 */
export async function runGroup({ group, workers, settings, tool, skip, shouldStop, log }) {
  const records = [];
  const record = (round, scenario, entry, fields) => records.push({ group, workers, round, scenario, server: entry, errors: 0, non2xx: 0, ...fields });
  const handles = new Map();
  const failures = new Map();
  let idle;
  const loaded = new Map();
  try {
    for (const entry of group.servers) {
      if (skip.has(entry.id)) continue;
      if (shouldStop()) break;
      const started = Date.now();
      try {
        handles.set(entry.id, await startServer(entry, group.app, workers));
        log(`  started ${entry.label} -w ${workers} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (error) {
        failures.set(entry.id, `did not start: ${String(error.message ?? error).split('\n')[0]}`);
        log(`  ${entry.label} -w ${workers} ${failures.get(entry.id)}`);
        log(String(error.message ?? error).split('\n').slice(1, 30).map((line) => `    ${line}`).join('\n'));
      }
    }
    idle = new Map([...handles].map(([id, handle]) => [id, treeMemory(handle.processes())]));
    for (let round = 1; round <= settings.rounds; round += 1) {
      for (const scenario of group.scenarios.filter((s) => runsAt(s, settings, workers))) {
        for (const entry of serversOf(group, scenario)) {
          const handle = handles.get(entry.id);
          if (handle === undefined) {
            if (failures.has(entry.id)) record(round, scenario, entry, { failed: failures.get(entry.id) });
            else record(round, scenario, entry, { skipped: skip.get(entry.id) ?? 'time budget spent' });
            continue;
          }
          if (shouldStop()) {
            record(round, scenario, entry, { skipped: 'time budget spent' });
            continue;
          }
          const run = await measure(handle, scenario, settings, tool, round);
          record(round, scenario, entry, run);
          log(`  round ${round} ${scenario.title} -w ${workers} ${entry.label}: ${describe(run, scenario)}`);
        }
      }
    }
    for (const [id, handle] of handles) loaded.set(id, treeMemory(handle.processes()));
  } finally {
    await Promise.all([...handles.values()].map((handle) => handle.stop()));
  }
  const servers = group.servers.filter((entry) => handles.has(entry.id)).map((entry) => {
    const handle = handles.get(entry.id);
    const runs = records.filter((r) => r.server === entry && r.requests !== undefined);
    return {
      group,
      workers,
      server: entry,
      startMs: handle.startMs,
      workerBootMs: handle.workerBootMs,
      idle: idle?.get(entry.id),
      loaded: loaded.get(entry.id),
      // Counted by bicorn's workers and logged as their Python process stops.
      spooled: entry.bicorn ? spooledBytes(handle.output()) : undefined,
      requests: runs.reduce((sum, r) => sum + r.requests + (r.warmupRequests ?? 0), 0),
    };
  });
  return { records, servers, startFailures: [...failures.entries()].map(([id, reason]) => `${group.title} -w ${workers}, ${id}: ${reason}`) };
}

/** The bytes bicorn's workers spooled to disk, from the `spooledBytes` of their "python process stopped" lines; undefined without such a line. */
function spooledBytes(output) {
  let total;
  for (const line of output.split('\n')) {
    if (!line.includes('"python process stopped"')) continue;
    try {
      const { spooledBytes: bytes } = JSON.parse(line);
      if (bytes === undefined) continue;
      total ??= { request: 0, response: 0 };
      total.request += bytes.request;
      total.response += bytes.response;
    } catch {
      // Not a JSON line.
    }
  }
  return total;
}

function describe(run, scenario) {
  if (run.failed !== undefined) return `failed: ${run.failed}`;
  const cpu = Object.entries(run.cpuUsPerRequest).map(([role, { us }]) => `${role} ${us.toFixed(1)}`).join(' + ');
  const value = `${Math.round(run.throughput * 10) / 10} ${scenario.unit}, p50 ${formatMs(run.p50ms)} ms, p99 ${formatMs(run.p99ms)} ms, CPU µs/req ${cpu}, PSS ${Math.round(run.pssMiB)} MiB, others' load ${run.otherCores.toFixed(2)} cores`;
  const slow = run.slowOpen === undefined ? '' : `, slow clients open ${run.slowOpen}/${run.slowCount} (${run.slowDropped} dropped)`;
  return `${value}${slow}${run.valid ? '' : `, INVALID (${run.errors} errors, ${run.non2xx} non-2xx)`}`;
}

// Measuring one group at one worker count: start every server of the group, then for each
// round run each scenario against each server in turn (A B A B: never one server's rounds back
// to back), then stop them all. Returns one record per (round, scenario, server), skipped and
// failed runs included. Runs in the harness process.
import { runHttpLoad, runWsEcho } from './load.mjs';
import { cpuBetween } from './processes.mjs';
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

/**
 * One measured run: an answer check, the slow clients if any, warm-up, RSS, the measurement, and
 * the CPU time the server's processes used during it, per request.
 */
async function measure(handle, scenario, settings, tool) {
  const spec = {
    ...settings.load,
    url: handle.base + scenario.path,
    connections: scenario.connections ?? settings.load.connections,
    bodyBytes: scenario.bodyBytes,
  };
  if (scenario.load === 'http' && scenario.bodyBytes === undefined) {
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
    const runLoad = (seconds) => (scenario.load === 'ws' ? runWsEcho({ ...spec, seconds }) : runHttpLoad(tool, { ...spec, seconds }));
    await runLoad(settings.warmupSeconds);
    const rssMiB = handle.rssMiB();
    const cpuBefore = handle.cpu();
    const measured = await runLoad(settings.seconds);
    const cpuSeconds = cpuBetween(cpuBefore, handle.cpu());
    // With no answer at all there is no latency to speak of (wrk prints 0 us).
    const result = measured.requests > 0 ? measured : { ...measured, p50ms: Number.NaN, p99ms: Number.NaN };
    const throughput = scenario.bytesPerRequest === undefined ? result.requestsPerSecond : (result.requestsPerSecond * scenario.bytesPerRequest) / MiB;
    return {
      ...result,
      throughput,
      rssMiB,
      cpuUsPerRequest: result.requests > 0 ? (cpuSeconds * 1e6) / result.requests : Number.NaN,
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
 * Resolves { records, startFailures }.
 */
export async function runGroup({ group, workers, settings, tool, skip, shouldStop, log }) {
  const records = [];
  const record = (round, scenario, entry, fields) => records.push({ group, workers, round, scenario, server: entry, errors: 0, non2xx: 0, ...fields });
  const handles = new Map();
  const failures = new Map();
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
    for (let round = 1; round <= settings.rounds; round += 1) {
      for (const scenario of group.scenarios) {
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
          const run = await measure(handle, scenario, settings, tool);
          record(round, scenario, entry, run);
          log(`  round ${round} ${scenario.title} -w ${workers} ${entry.label}: ${describe(run, scenario)}`);
        }
      }
    }
  } finally {
    await Promise.all([...handles.values()].map((handle) => handle.stop()));
  }
  return { records, startFailures: [...failures.entries()].map(([id, reason]) => `${group.title} -w ${workers}, ${id}: ${reason}`) };
}

function describe(run, scenario) {
  if (run.failed !== undefined) return `failed: ${run.failed}`;
  const value = `${Math.round(run.throughput * 10) / 10} ${scenario.unit}, p50 ${formatMs(run.p50ms)} ms, p99 ${formatMs(run.p99ms)} ms, ${Math.round(run.rssMiB)} MiB, ${Math.round(run.cpuUsPerRequest)} CPU µs/req`;
  const slow = run.slowOpen === undefined ? '' : `, slow clients open ${run.slowOpen}/${run.slowCount} (${run.slowDropped} dropped)`;
  return `${value}${slow}${run.valid ? '' : `, INVALID (${run.errors} errors, ${run.non2xx} non-2xx)`}`;
}

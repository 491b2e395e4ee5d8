// The load generators: wrk (Debian's package) when installed, else autocannon; h2load (Debian's
// nghttp2-client) for HTTP/2; our own for a steady rate and for WebSockets. Each run is a child
// process bounded in time, and its output is parsed into one result shape: { requestsPerSecond,
// p50ms, p99ms, requests, errors, non2xx }. Runs in the harness process.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startProcess, stopProcess } from './processes.mjs';
import { repoRoot } from './paths.mjs';

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The load tool to use: { name, path, version }, or undefined when neither is installed. */
export function findLoadTool(prefer) {
  const wrk = onPath('wrk');
  const autocannon = onPath('autocannon') ?? [join(repoRoot, 'node_modules', '.bin', 'autocannon')].find(existsSync);
  const pick = prefer === 'autocannon' ? autocannon && 'autocannon' : wrk ? 'wrk' : autocannon && 'autocannon';
  if (pick === 'wrk') {
    // `wrk -v` prints its version and exits 1.
    let version = 'unknown';
    try {
      execFileSync(wrk, ['-v'], { encoding: 'utf8' });
    } catch (error) {
      version = /wrk (\S+)/.exec(String(error.stdout))?.[1] ?? version;
    }
    return { name: 'wrk', path: wrk, version };
  }
  if (pick === 'autocannon') {
    let version = 'unknown';
    try {
      version = execFileSync(autocannon, ['--version'], { encoding: 'utf8' }).match(/autocannon v?(\S+)/)?.[1] ?? version;
    } catch {
      // Keep 'unknown'.
    }
    return { name: 'autocannon', path: autocannon, version };
  }
  return undefined;
}

const unitMs = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  return match === null ? Number.NaN : Number(match[1]) * unitMs[match[2]];
}

/** Parses `wrk --latency` output. Exported for the report's self-check. */
export function parseWrk(output) {
  const number = (re) => Number(re.exec(output)?.[1] ?? Number.NaN);
  const percentile = (p) => durationMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output)?.[1] ?? '');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return {
    requestsPerSecond: number(/^Requests\/sec:\s+([\d.]+)/m),
    p50ms: percentile(50),
    p99ms: percentile(99),
    requests: number(/^\s+(\d+) requests in/m),
    errors,
    non2xx: number(/Non-2xx or 3xx responses: (\d+)/) || 0,
  };
}

/** h2load's path, or undefined when it is not installed. */
export function findH2load() {
  return onPath('h2load');
}

/**
 * Parses h2load's output. It gives no percentiles of its own: p50 and p99 stay NaN (the report
 * shows none), its mean time per request is kept as `meanMs`. Exported for the report's self-check.
 */
export function parseH2load(output) {
  const requests = /^requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(output);
  const statuses = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(output);
  const mean = /^time for request:\s+\S+\s+\S+\s+(\S+)/m.exec(output);
  return {
    requestsPerSecond: Number(/^finished in [\d.]+\w+, ([\d.]+) req\/s/m.exec(output)?.[1] ?? Number.NaN),
    p50ms: Number.NaN,
    p99ms: Number.NaN,
    meanMs: mean === null ? Number.NaN : durationMs(mean[1]),
    requests: Number(requests?.[2] ?? Number.NaN),
    errors: requests === null ? 0 : Number(requests[3]) + Number(requests[4]) + Number(requests[5]),
    non2xx: statuses === null ? 0 : Number(statuses[3]) + Number(statuses[4]),
  };
}

/**
 * One bounded HTTP/2 run with h2load: `spec` is { url, seconds, connections, streams, threads,
 * timeoutSeconds }; an http:// URL is h2c with prior knowledge.
 */
export async function runH2Load(path, spec) {
  const args = ['-D', String(spec.seconds), '-c', String(spec.connections), '-m', String(spec.streams), '-t', String(Math.min(spec.threads, spec.connections)), '-T', String(spec.timeoutSeconds), spec.url];
  const proc = startProcess('h2load', path, args, {});
  const { code } = await exitWithinTime(proc, spec);
  const output = proc.output();
  const result = parseH2load(output);
  if (code !== 0 || !Number.isFinite(result.requestsPerSecond)) throw new Error(`h2load failed (exit ${code}) on ${spec.url}:\n${output.slice(-2000)}`);
  return result;
}

/** Parses `autocannon -j` output (the last JSON line). */
export function parseAutocannon(output) {
  const line = output.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  const result = JSON.parse(line ?? '{}');
  return {
    requestsPerSecond: result.requests?.average ?? Number.NaN,
    p50ms: result.latency?.p50 ?? Number.NaN,
    p99ms: result.latency?.p99 ?? Number.NaN,
    requests: result.requests?.total ?? Number.NaN,
    errors: (result.errors ?? 0) + (result.timeouts ?? 0),
    non2xx: result.non2xx ?? 0,
  };
}

/** Waits for a load run's process to exit, stopping it once well past its time: a hung tool must not hold the bench. */
async function exitWithinTime(proc, spec) {
  const limit = setTimeout(() => void stopProcess(proc, 1000), (spec.seconds + spec.timeoutSeconds + 15) * 1000);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(limit);
  }
}

function wrkArgs(spec, script) {
  return ['-t', String(spec.threads), '-c', String(spec.connections), '-d', `${spec.seconds}s`, '--timeout', `${spec.timeoutSeconds}s`, '--latency', ...(script ? ['-s', script] : []), spec.url];
}

function autocannonArgs(spec, bodyFile) {
  // -w: worker threads, as wrk's -t.
  const args = ['-j', '-w', String(spec.threads), '-c', String(spec.connections), '-d', String(spec.seconds), '-t', String(spec.timeoutSeconds)];
  if (spec.bodyBytes !== undefined) args.push('-m', 'POST', '-H', 'content-type=application/octet-stream', '-i', bodyFile);
  return [...args, spec.url];
}

/**
 * One bounded load run: `spec` is { url, seconds, connections, threads, timeoutSeconds,
 * bodyBytes? } (bodyBytes: POST a body of that many bytes). Resolves the parsed result.
 */
export async function runHttpLoad(tool, spec) {
  const dir = spec.bodyBytes === undefined ? undefined : mkdtempSync(join(tmpdir(), 'bicorn-bench-load-'));
  try {
    let args;
    if (tool.name === 'wrk') {
      let script;
      if (dir !== undefined) {
        script = join(dir, 'post.lua');
        writeFileSync(script, `wrk.method = "POST"\nwrk.body = string.rep("x", ${spec.bodyBytes})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
      }
      args = wrkArgs(spec, script);
    } else {
      let bodyFile;
      if (dir !== undefined) {
        bodyFile = join(dir, 'body.bin');
        writeFileSync(bodyFile, Buffer.alloc(spec.bodyBytes, 'x'));
      }
      args = autocannonArgs(spec, bodyFile);
    }
    const proc = startProcess(tool.name, tool.path, args, {});
    const { code } = await exitWithinTime(proc, spec);
    const output = proc.output();
    const result = tool.name === 'wrk' ? parseWrk(output) : parseAutocannon(output);
    if (code !== 0 || !Number.isFinite(result.requestsPerSecond)) {
      throw new Error(`${tool.name} failed (exit ${code}) on ${spec.url}:\n${output.slice(-2000)}`);
    }
    return result;
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one of our load scripts (`name`.mjs here) in a child process, bounded in time; resolves the JSON line it printed last, which must hold the number `counted`. */
async function runOwnLoad(name, args, spec, counted) {
  const script = join(repoRoot, 'scripts', 'bench', `${name}.mjs`);
  const proc = startProcess(name, process.execPath, [script, ...args], { cwd: repoRoot });
  const { code } = await exitWithinTime(proc, spec);
  const output = proc.output();
  const line = output.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  const result = line === undefined ? {} : JSON.parse(line);
  if (code !== 0 || typeof result[counted] !== 'number') throw new Error(`${name} failed (exit ${code}) on ${args[0]}:\n${output.slice(-2000)}`);
  return result;
}

/** A bounded WebSocket echo run (ws-echo.mjs), in the same result shape. */
export async function runWsEcho(spec) {
  const url = spec.url.replace(/^http:/, 'ws:');
  const result = await runOwnLoad('ws-echo', [url, String(spec.connections), String(spec.seconds), '32'], spec, 'roundTripsPerSecond');
  return {
    requestsPerSecond: result.roundTripsPerSecond,
    p50ms: result.p50ms ?? Number.NaN,
    p99ms: result.p99ms ?? Number.NaN,
    requests: result.roundTrips,
    errors: result.errors,
    non2xx: 0,
  };
}

/** A bounded run at a steady rate, `spec.rate` requests a second in all (paced-load.mjs), in the same result shape. */
export async function runPacedLoad(spec) {
  const result = await runOwnLoad('paced-load', [spec.url, String(spec.rate), String(spec.connections), String(spec.seconds)], spec, 'requestsPerSecond');
  return {
    requestsPerSecond: result.requestsPerSecond,
    p50ms: result.p50ms ?? Number.NaN,
    p99ms: result.p99ms ?? Number.NaN,
    requests: result.requests,
    // A request missed for want of a free connection is a rate the server did not keep: the
    // run is invalid, as with an error.
    errors: result.failed + result.missed,
    non2xx: result.non2xx,
  };
}

// Every process the harness starts: spawned in a process group of its own, remembered, and
// stopped by its PID (the group: SIGTERM, then SIGKILL after a bounded wait). Also the RSS and
// the CPU time of a process tree, summed from /proc. Runs in the harness process.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const running = new Set();

/**
 * Starts `command` in a new process group. Returns { pid, name, exited, output(), hasExited }:
 * `exited` resolves with { code, signal }; `output()` is the last 64 KiB of stdout and stderr.
 */
export function startProcess(name, command, args, { cwd, env } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-65_536);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const proc = {
    name,
    pid: child.pid,
    hasExited: false,
    output: () => output,
    exited: new Promise((resolve) => {
      child.once('error', (error) => {
        keep(`${String(error)}\n`);
        proc.hasExited = true;
        running.delete(proc);
        resolve({ code: null, signal: null, error });
      });
      child.once('close', (code, signal) => {
        proc.hasExited = true;
        running.delete(proc);
        resolve({ code, signal });
      });
    }),
  };
  if (child.pid !== undefined) running.add(proc);
  return proc;
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM to the process group, SIGKILL to what is left after `graceMs`; resolves when none is. */
export async function stopProcess(proc, graceMs = 5000) {
  if (proc.pid === undefined) return;
  signalGroup(proc.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(proc.pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(proc.pid)) {
    signalGroup(proc.pid, 'SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (groupAlive(proc.pid) && Date.now() < killDeadline) await sleep(50);
  }
  await Promise.race([proc.exited, sleep(1000)]);
}

/** Stops everything still running (on the way out, normal or not). */
export async function stopAll() {
  await Promise.all([...running].map((proc) => stopProcess(proc, 3000)));
}

/** Synchronous last resort for process 'exit': SIGKILL every group still known. */
export function killAllNow() {
  for (const proc of running) signalGroup(proc.pid, 'SIGKILL');
}

/** The fields of /proc/<pid>/stat after the command name, from `state` (field 3) on. */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields follow its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function parentOf(pid) {
  const fields = statFields(pid);
  return fields === undefined ? undefined : Number(fields[1]);
}

/** User and system CPU seconds (utime, stime: fields 14 and 15, in USER_HZ = 100 ticks). */
function cpuSeconds(pid) {
  const fields = statFields(pid);
  return fields === undefined ? 0 : (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssKiB(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** `pid` and all its descendants. */
function tree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(entry);
    if (parent === undefined) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(Number(entry));
  }
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop();
    found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

/** The resident memory of `pid` and all its descendants, in MiB. */
export function treeRssMiB(pid) {
  return tree(pid).reduce((sum, next) => sum + rssKiB(next), 0) / 1024;
}

/**
 * The CPU seconds `pid` and its descendants have used, per process, so that a process that
 * starts or exits between two readings counts only for what it used between them.
 */
export function treeCpu(pid) {
  return new Map(tree(pid).map((next) => [next, cpuSeconds(next)]));
}

/** CPU seconds used between two treeCpu readings of the same tree. */
export function cpuBetween(before, after) {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

// Every process the harness starts: spawned in a process group of its own, remembered, and
// stopped by its PID (the group: SIGTERM, then SIGKILL after a bounded wait). Also what /proc
// says of a process tree: each process's role, CPU time and memory (PSS, private and RSS from
// smaps_rollup), and when it started. Runs in the harness process.
import { execFileSync, spawn } from 'node:child_process';
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

/**
 * For a harness run from a shell: on SIGINT or SIGTERM, `onSignal(signal)` runs, every process
 * started here stops, then `cleanup`, and the harness exits 130; at any exit, what is left is
 * killed.
 */
export function stopAllOnSignals(cleanup = () => undefined, onSignal = () => undefined) {
  const stop = (signal) => {
    onSignal(signal);
    void stopAll().finally(() => {
      cleanup();
      process.exit(130);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.on('exit', killAllNow);
}

// /proc/<pid>/stat times are in clock ticks (USER_HZ, 100 on Linux everywhere in practice).
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat: { ppid, comm, cpuSeconds } (user + system time of every thread), or undefined once gone. */
function stat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields follow its last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  // After the name: state(3) ppid(4) ... utime(14) stime(15), numbered from 1.
  const fields = text.slice(close + 2).split(' ');
  const field = (n) => Number(fields[n - 3]);
  return {
    ppid: field(4),
    comm,
    cpuSeconds: (field(14) + field(15)) / TICKS_PER_SECOND,
  };
}

/** Kind of process by its place in a server's tree: the root, its workers, their children (bicorn's Python processes). */
function roleOf(depth, comm, hasChildren) {
  if (depth === 0) return hasChildren ? 'master' : 'main';
  if (depth === 1) return 'worker';
  return /^python/.test(comm) ? 'python' : comm;
}

/**
 * Every live process of the tree under `rootPid`: [{ pid, role, comm, depth, cpuSeconds }]. A
 * process that exits between two reads is left out.
 */
export function treeProcesses(rootPid) {
  const all = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = stat(entry);
    if (fields !== undefined) all.set(Number(entry), fields);
  }
  const children = new Map();
  for (const [pid, { ppid }] of all) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const found = [];
  const queue = all.has(rootPid) ? [[rootPid, 0]] : [];
  while (queue.length > 0) {
    const [pid, depth] = queue.shift();
    const { comm, cpuSeconds } = all.get(pid);
    const kids = children.get(pid) ?? [];
    found.push({ pid, role: roleOf(depth, comm, kids.length > 0), comm, depth, cpuSeconds });
    for (const kid of kids) queue.push([kid, depth + 1]);
  }
  return found;
}

/** Memory of one process from smaps_rollup, in KiB: { pss, private, rss }; zeros once it is gone. */
export function memoryKiB(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return { pss: 0, private: 0, rss: 0 };
  }
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { pss: kib('Pss'), private: kib('Private_Clean') + kib('Private_Dirty'), rss: kib('Rss') };
}

/** CPU seconds the whole machine spent busy so far (every core; /proc/stat, idle and iowait left out). */
export function machineBusySeconds() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of the harness itself and of its children once reaped (the load generator's runs
 * end there): what, besides the server, the harness put on the machine.
 */
export function harnessCpuSeconds() {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime(14) stime(15) cutime(16) cstime(17), numbered from 1; fields start at 3.
  return [14, 15, 16, 17].reduce((sum, n) => sum + Number(fields[n - 3]), 0) / TICKS_PER_SECOND;
}

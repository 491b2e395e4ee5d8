// Starts the built bicorn binary as a real process for end-to-end tests, reads its JSON log
// lines, and waits on them. Every process started here is killed (with its workers) after
// each test, and a test that left one running, or whose bicorn left a process behind, fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { pollUntil } from './poll.js';
import { groupMembers, type Member } from './proc.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binary = fileURLToPath(new URL('../../packages/bicorn/bin/bicorn.js', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface LogLine {
  /** pino's number for the level the line names, so that tests can compare severities. */
  readonly level: number;
  readonly msg: string;
  readonly role?: string;
  readonly worker?: number;
  readonly [field: string]: unknown;
}

export interface BicornOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** A command that execs node with bicorn's arguments, as systemd-socket-activate does. */
  readonly launcher?: readonly string[];
  /** The binds serve HTTPS: listening() gives https:// URLs. */
  readonly https?: boolean;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The warning every master started as root without --user logs, as tests run here (root). */
export const isRootWarning = (line: LogLine): boolean => line.msg.startsWith('running as root without --user');

const levelValues: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

const running = new Set<BicornProcess>();

/** How long a master's workers and Python processes get to follow it once it has exited. */
const FOLLOW_MS = 15_000;

afterEach(async () => {
  const started = [...running];
  running.clear();
  const leaked = started.filter((p) => !p.hasExited);
  for (const p of leaked) p.killGroup();
  if (leaked.length > 0) throw new Error(`the test left bicorn running (pid ${leaked.map((p) => String(p.pid)).join(', ')}); stop it before the test ends`);
  // Nothing bicorn started may outlive it: a worker, or a Python process stuck in its app.
  const left = await leftBehind(started.map((p) => p.pid));
  for (const p of started) p.killGroup();
  if (left.length > 0) throw new Error(`bicorn exited and left processes of its group running: ${left.map((m) => `${String(m.pid)} (${m.command})`).join(', ')}`);
}, FOLLOW_MS + 5_000);

async function leftBehind(groups: readonly number[]): Promise<Member[]> {
  const members = () => groups.flatMap((pgid) => (pgid > 0 ? groupMembers(pgid) : []));
  try {
    return await pollUntil('its processes to exit', () => (members().length === 0 ? [] : undefined), FOLLOW_MS, 50);
  } catch {
    return members();
  }
}

export class BicornProcess {
  readonly lines: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  hasExited = false;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  readonly #https: boolean;

  constructor(args: readonly string[], options: BicornOptions = {}) {
    this.#https = options.https === true;
    // A process group of its own, so teardown can kill the master and its workers together.
    // `--` as in the binary's shebang: node 20 would otherwise check our --env-file itself.
    const [command = process.execPath, ...prefix] = options.launcher === undefined ? [] : [...options.launcher, process.execPath];
    this.#child = spawn(command, [...prefix, '--', binary, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(this);
    let partial = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) this.#addLine(line);
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.#notify();
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('close', (code, signal) => {
        this.hasExited = true;
        this.#notify();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  #addLine(line: string): void {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      this.lines.push({ ...entry, msg: typeof entry.msg === 'string' ? entry.msg : '', level: levelValues[String(entry.level)] ?? 30 });
    } catch {
      this.lines.push({ level: 30, msg: line });
    }
    this.#notify();
  }

  #notify(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Waits until a log line matches; fails after `timeoutMs` naming what was awaited. */
  async waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    return this.#waitFor(what, () => this.lines.find(match), timeoutMs);
  }

  /** Waits for the `listening` line and returns the first address as a base URL. */
  async listening(): Promise<string> {
    const line = await this.waitForLog('the listening line', (l) => l.msg === 'listening');
    const addresses = line.addresses as string[];
    return `${this.#https ? 'https' : 'http'}://${addresses[0] ?? ''}`;
  }

  /** The pids of the workers that logged `worker ready` so far, in order. */
  workerPids(): number[] {
    return this.lines.filter((l) => l.msg === 'worker ready').map((l) => Number(l.workerPid));
  }

  /** The pid of the first worker that logged `worker ready` (the only one, with one worker). */
  workerPid(): number {
    const [pid] = this.workerPids();
    if (pid === undefined || !Number.isInteger(pid) || pid <= 0) throw new Error(`no worker ready line with a pid yet\nstdout:\n${this.stdout}`);
    return pid;
  }

  async #waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = probe();
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (this.hasExited) {
          finish();
          reject(new Error(`bicorn exited while waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Sends SIGTERM and waits for the exit. */
  async stop(): Promise<Exit> {
    this.signal('SIGTERM');
    return this.exited;
  }

  killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Runs bicorn to completion (for commands that exit by themselves). */
export async function runBicorn(args: readonly string[], options: BicornOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = new BicornProcess(args, options);
  const { code } = await child.exited;
  return { code, stdout: child.stdout, stderr: child.stderr };
}

// The master's hook process: a Python process (the app's interpreter) that runs a gunicorn
// config once and calls its master-side hooks as asked (runner/bicorn_runner/server_hooks.py),
// one at a time, in the order asked, over JSON lines on fd 3. A hook gets at most `timeoutMs`:
// past it the process is killed and started again (running the file anew) for the next hook.
// Its stdout and stderr go to the log. Runs in the master; the app is never imported there.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { HOOK_CONTEXT_VARIABLE, type HookContext } from './hook-context.js';
import type { Interpreter } from './interpreter.js';
import type { HostLog } from './log.js';
import { logLines } from './output-log.js';
import { RUNNER } from './runner-process.js';

export type MasterHook = 'on_starting' | 'when_ready' | 'on_reload' | 'pre_fork' | 'child_exit' | 'nworkers_changed' | 'on_exit';

/** `server` as the hooks see it: how many workers there should be, and those alive. */
export interface ServerView {
  readonly numWorkers: number;
  readonly workers: readonly { readonly age: number; readonly pid: number | undefined }[];
}

export interface HookCall {
  readonly server: ServerView;
  /** pre_fork's and child_exit's worker. */
  readonly worker?: { readonly age: number; readonly pid: number | undefined };
  /** nworkers_changed's new and old values. */
  readonly args?: readonly [number, number | null];
}

export type HookOutcome =
  | { readonly kind: 'ran' }
  | { readonly kind: 'raised'; readonly traceback: string }
  | { readonly kind: 'timed-out' }
  /** The process died during the hook (the hook exited it), or could not start. */
  | { readonly kind: 'died'; readonly reason: string };

export interface HookProcessOptions {
  readonly interpreter: Interpreter;
  /** The gunicorn config: an absolute path, or python:MODULE. */
  readonly config: string;
  /** At start; a reload gives the next one to restart(). */
  readonly context: HookContext;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** 0: no limit. */
  readonly timeoutMs: number;
  readonly log: HostLog;
}

interface Running {
  readonly child: ChildProcess;
  readonly send: (line: string) => void;
  /** The next line the process writes, or null once it has exited. */
  readonly next: () => Promise<string | null>;
}

export class HookProcess {
  readonly #options: HookProcessOptions;
  #context: HookContext;
  #hooks: ReadonlySet<MasterHook>;
  /** Undefined when the file defines no master-side hook, or after a hook was killed. */
  #running: Running | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #nextId = 0;
  #closed = false;

  private constructor(options: HookProcessOptions, launched: Launched) {
    this.#options = options;
    this.#context = options.context;
    this.#hooks = launched.hooks;
    this.#running = launched.running;
  }

  /** The master-side hooks the file defines. */
  get hooks(): ReadonlySet<MasterHook> {
    return this.#hooks;
  }

  /** Runs the file; throws with its traceback when it cannot be run. */
  static async start(options: HookProcessOptions): Promise<HookProcess> {
    return new HookProcess(options, await launchIfHooked(options, options.context));
  }

  /** Queues the hook behind those asked before; resolves with how it went, never rejects. */
  call(hook: MasterHook, call: HookCall): Promise<HookOutcome> {
    if (this.#closed) return Promise.resolve({ kind: 'ran' });
    const outcome = this.#tail.then(() => this.#run(hook, call));
    this.#tail = outcome;
    return outcome;
  }

  /** After the hooks asked so far, runs the file anew (a reload: its hooks may have changed). */
  restart(context: HookContext): void {
    this.#tail = this.#tail.then(async () => {
      if (this.#running !== undefined) await stop(this.#running);
      this.#running = undefined;
      this.#context = context;
      try {
        const launched = await launchIfHooked(this.#options, context);
        this.#hooks = launched.hooks;
        this.#running = launched.running;
      } catch (error) {
        this.#hooks = new Set();
        this.#options.log.error({ reason: (error as Error).message }, 'the gunicorn config failed to run in the hook process; its master-side hooks are off until the next reload');
      }
    });
  }

  /** Lets the hooks asked so far finish, then ends the process. The same promise every call. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#tail = this.#tail.then(async () => {
        if (this.#running !== undefined) await stop(this.#running);
        this.#running = undefined;
      });
    }
    return this.#tail.then(() => undefined);
  }

  async #run(hook: MasterHook, call: HookCall): Promise<HookOutcome> {
    if (!this.#hooks.has(hook)) return { kind: 'ran' };
    let running = this.#running;
    if (running === undefined) {
      try {
        running = (await launch(this.#options, this.#context)).running;
      } catch (error) {
        return { kind: 'died', reason: (error as Error).message };
      }
      this.#running = running;
    }
    const id = ++this.#nextId;
    running.send(JSON.stringify({ id, hook, server: call.server, worker: call.worker, args: call.args }));
    const timeoutMs = this.#options.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      if (timeoutMs > 0) timer = setTimeout(() => { resolve('timed-out'); }, timeoutMs);
    });
    const line = await Promise.race([running.next(), timedOut]);
    clearTimeout(timer);
    if (line === 'timed-out' || line === null) {
      running.child.kill('SIGKILL');
      this.#running = undefined;
      return line === null ? { kind: 'died', reason: 'the hook process exited during the hook' } : { kind: 'timed-out' };
    }
    const answer = JSON.parse(line) as { id: number; ok: boolean; traceback?: string };
    return answer.ok ? { kind: 'ran' } : { kind: 'raised', traceback: answer.traceback ?? '' };
  }
}

interface Launched {
  readonly running: Running | undefined;
  readonly hooks: ReadonlySet<MasterHook>;
}

/** A process that defines no master-side hook is ended at once. */
async function launchIfHooked(options: HookProcessOptions, context: HookContext): Promise<Launched> {
  const launched = await launch(options, context);
  if (launched.hooks.size > 0) return launched;
  await stop(launched.running);
  return { running: undefined, hooks: launched.hooks };
}

async function launch(options: HookProcessOptions, context: HookContext): Promise<{ running: Running; hooks: ReadonlySet<MasterHook> }> {
  const env = { ...options.env, [HOOK_CONTEXT_VARIABLE]: JSON.stringify(context) };
  const child = spawn(options.interpreter.path, [RUNNER, '--server-hooks', options.config], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  logLines(child.stdio[1], 'stdout', options.log);
  logLines(child.stdio[2], 'stderr', options.log);
  const socket = child.stdio[3] as Socket;
  socket.on('error', () => undefined);
  const lines = createInterface({ input: socket, crlfDelay: Infinity });
  const queued: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  let ended = false;
  lines.on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter === undefined) queued.push(line);
    else waiter(line);
  });
  const end = (): void => {
    ended = true;
    for (const waiter of waiting.splice(0)) waiter(null);
  };
  lines.on('close', end);
  child.once('error', end);
  const running: Running = {
    child,
    send: (line) => {
      if (!socket.destroyed) socket.write(`${line}\n`);
    },
    next: () => {
      const line = queued.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
  const first = await running.next();
  const hello = first === null ? { error: `the hook process (${options.interpreter.path}) exited before it read ${options.config}` } : (JSON.parse(first) as { hooks?: MasterHook[]; error?: string });
  if (hello.hooks === undefined) {
    child.kill('SIGKILL');
    throw new Error(hello.error ?? 'the hook process said nothing of its hooks');
  }
  return { running, hooks: new Set(hello.hooks) };
}

/** Closes fd 3, on which the process ends; kills it if it has not within a second. */
async function stop(running: Running): Promise<void> {
  const { child } = running;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  (child.stdio[3] as Socket).end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 1_000);
  await exited;
  clearTimeout(timer);
}

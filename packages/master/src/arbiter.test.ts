import { ExitCode, type MasterMessage } from '@bicorn/protocol';
import pino, { type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Arbiter, type ArbiterConfig, type ArbiterEvent, type Outcome } from './arbiter.js';
import type { Command, MasterSignal } from './commands.js';
import { Dispatcher } from './dispatch.js';
import type { WorkerHandle, WorkerHost } from './worker-host.js';

type TestConfig = ArbiterConfig & { readonly label: string };

class FakeWorker implements WorkerHandle {
  readonly pid = 1000;
  readonly sent: MasterMessage[] = [];
  readonly signals: NodeJS.Signals[] = [];
  constructor(
    readonly id: number,
    readonly config: TestConfig,
  ) {}
  send(message: MasterMessage): void {
    this.sent.push(message);
  }
  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
  }
  sendConnection(): void {
    throw new Error('not used');
  }
}

const baseConfig: TestConfig = { label: 'first', workers: 2, timeout: 0, graceful_timeout: 30, shutdown_delay: 0, restart_delay: 0.1, max_restarts: 3, restart_window: 60 };

function setup(config: Partial<TestConfig> = {}, log?: Logger) {
  const forked: FakeWorker[] = [];
  const host: WorkerHost<TestConfig> = {
    fork(workerId, workerConfig) {
      const worker = new FakeWorker(workerId, workerConfig);
      forked.push(worker);
      return worker;
    },
  };
  const dispatcher = new Dispatcher();
  const stopAccepting = vi.fn();
  const events: ArbiterEvent[] = [];
  // What the next reload reads: a config, or the error a reload then reports.
  let nextConfig: Promise<TestConfig> = Promise.resolve({ ...baseConfig, ...config, label: 'reloaded' });
  const reopenLogs = vi.fn();
  const logged: Record<string, unknown>[] = [];
  const arbiter = new Arbiter<TestConfig>({
    config: { ...baseConfig, ...config },
    host,
    dispatcher,
    log: log ?? pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) }),
    loadConfig: () => nextConfig,
    stopAccepting,
    reopenLogs,
    notify: (event) => events.push(event),
  });
  let outcome: Outcome | undefined;
  void arbiter.done.then((o) => (outcome = o));
  arbiter.start();
  const ready = (id: number) => {
    arbiter.enqueue({ type: 'worker-message', workerId: id, message: { type: 'ready', interface: 'fetch', loadError: null } });
  };
  const onReady = () => events.filter((e) => e.type === 'ready').length;
  const willLoad = (next: Promise<TestConfig>) => {
    nextConfig = next;
  };
  const exit = (id: number, code: number | null, signal: NodeJS.Signals | null = null) => {
    arbiter.enqueue({ type: 'worker-exit', workerId: id, code, signal });
  };
  const settle = async () => {
    await Promise.resolve();
    return outcome;
  };
  const signal = (name: MasterSignal) => {
    arbiter.enqueue({ type: 'signal', signal: name });
  };
  const message = (id: number, sent: Extract<Command, { type: 'worker-message' }>['message']) => {
    arbiter.enqueue({ type: 'worker-message', workerId: id, message: sent });
  };
  /** Lets the config promise of a reload resolve and its command run. */
  const flush = () => vi.advanceTimersByTimeAsync(0);
  const alive = () => forked.filter((w) => !exited.has(w.id));
  const exited = new Set<number>();
  const exitAndRecord = (id: number, code: number | null, sig: NodeJS.Signals | null = null) => {
    exited.add(id);
    exit(id, code, sig);
  };
  return { arbiter, forked, dispatcher, stopAccepting, onReady, ready, exit: exitAndRecord, settle, events, willLoad, signal, message, flush, alive, reopenLogs, logged };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('arbiter', () => {
  it('starts the configured number of workers and reports ready once all are', () => {
    const { forked, onReady, ready, dispatcher } = setup();
    expect(forked.map((w) => w.id)).toEqual([1, 2]);
    ready(1);
    expect(onReady()).toBe(0);
    expect(dispatcher.readyCount).toBe(1);
    ready(2);
    expect(onReady()).toBe(1);
    expect(dispatcher.readyCount).toBe(2);
  });

  it('replaces a serving worker that dies at once, every time, and never stops for it', async () => {
    const { forked, ready, exit, dispatcher, settle, arbiter } = setup({ workers: 2, max_restarts: 1 });
    ready(1);
    ready(2);
    for (let i = 0; i < 10; i++) {
      const victim = forked.at(-1)!;
      vi.advanceTimersByTime(1_000);
      exit(victim.id, null, i % 2 === 0 ? 'SIGSEGV' : 'SIGKILL');
      expect(forked).toHaveLength(3 + i);
      ready(forked.at(-1)!.id);
    }
    expect(dispatcher.readyCount).toBe(2);
    expect(await settle()).toBeUndefined();
    expect(arbiter.snapshot().deaths).toEqual([
      { process: 'worker', cause: 'SIGSEGV', count: 5 },
      { process: 'worker', cause: 'SIGKILL', count: 5 },
    ]);
  });

  it('replaces a worker that exits cleanly on its own at once, counting it by its exit code', () => {
    const { forked, ready, exit, arbiter } = setup({ workers: 1 });
    ready(1);
    exit(1, 0);
    expect(forked).toHaveLength(2);
    expect(arbiter.snapshot().deaths).toEqual([{ process: 'worker', cause: 'exit 0', count: 1 }]);
  });

  it('makes the replacement of a worker that died sooner than it booted wait the difference', () => {
    const { forked, ready, exit } = setup({ workers: 1 });
    vi.advanceTimersByTime(400);
    ready(1);
    vi.advanceTimersByTime(100);
    exit(1, null, 'SIGSEGV');
    vi.advanceTimersByTime(299);
    expect(forked).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(forked).toHaveLength(2);
  });

  it('retries a replacement that cannot boot after a back-off that doubles, while the other workers serve', async () => {
    const { forked, ready, exit, message, settle, dispatcher } = setup({ workers: 2, max_restarts: 2 });
    ready(1);
    ready(2);
    exit(2, null, 'SIGKILL');
    expect(forked).toHaveLength(3);
    for (const [i, delayMs] of [100, 200, 400, 800, 1600].entries()) {
      const worker = forked.at(-1)!;
      message(worker.id, { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed to load' });
      exit(worker.id, ExitCode.AppLoad);
      vi.advanceTimersByTime(delayMs - 1);
      expect(forked).toHaveLength(3 + i);
      vi.advanceTimersByTime(1);
      expect(forked).toHaveLength(4 + i);
    }
    expect(await settle()).toBeUndefined();
    expect(dispatcher.readyCount).toBe(1);
  });

  it('stops with the boot exit code once replacements fail to boot more than max_restarts times while none serves', async () => {
    const { forked, ready, exit, message, settle } = setup({ workers: 1, max_restarts: 2 });
    ready(1);
    exit(1, null, 'SIGKILL');
    for (let i = 0; i < 3; i++) {
      const worker = forked.at(-1)!;
      message(worker.id, { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed to load' });
      exit(worker.id, ExitCode.AppLoad);
      vi.advanceTimersByTime(10_000);
    }
    expect(await settle()).toMatchObject({ error: { code: 'CRASH_LOOP', exitCode: ExitCode.AppLoad, message: expect.stringContaining('app x failed to load') as unknown } });
  });

  it('forgets boot failures older than the restart window', async () => {
    const { forked, ready, exit, settle } = setup({ workers: 1, max_restarts: 1, restart_window: 5 });
    ready(1);
    exit(1, 1);
    for (let i = 0; i < 3; i++) {
      exit(forked.at(-1)!.id, null, 'SIGSEGV');
      vi.advanceTimersByTime(6_000);
    }
    expect(await settle()).toBeUndefined();
    expect(forked).toHaveLength(5);
  });

  it('ends with the exit code a worker reported when it could not load the app', async () => {
    const { arbiter, forked, exit, settle } = setup();
    arbiter.enqueue({ type: 'worker-message', workerId: 1, message: { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed' } });
    exit(1, ExitCode.AppLoad);
    expect(forked[1]!.signals).toEqual(['SIGTERM']);
    exit(2, null, 'SIGTERM');
    expect(await settle()).toMatchObject({ error: { code: 'WORKER_BOOT_FAILED', exitCode: ExitCode.AppLoad, message: 'app x failed' } });
  });

  it('logs each worker that could not load the app as a failed boot, also one that failed before the stop', async () => {
    const lines: { msg: string; workerId?: number }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const { arbiter, forked, exit, settle } = setup({}, log);
    const failed = { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed' } as const;
    arbiter.enqueue({ type: 'worker-message', workerId: 2, message: failed });
    arbiter.enqueue({ type: 'worker-message', workerId: 1, message: failed });
    exit(1, ExitCode.AppLoad);
    // Worker 2 is already exiting on its own: no stop is sent to it.
    expect(forked[1]!.sent.filter((m) => m.type === 'stop')).toEqual([]);
    exit(2, ExitCode.AppLoad);
    expect(await settle()).toMatchObject({ error: { code: 'WORKER_BOOT_FAILED', exitCode: ExitCode.AppLoad } });
    expect(lines.filter((l) => l.msg === 'worker failed to boot').map((l) => l.workerId)).toEqual([1, 2]);
    expect(lines.filter((l) => l.msg === 'worker stopped')).toEqual([]);
  });

  it('ends with exit code 3 when a worker dies before it is ready without saying why', async () => {
    const { exit, settle } = setup({ workers: 1 });
    exit(1, null, 'SIGSEGV');
    expect(await settle()).toMatchObject({ error: { code: 'WORKER_BOOT_FAILED', exitCode: ExitCode.WorkerBoot } });
  });

  it('on SIGTERM stops accepting, asks every worker to drain, and ends cleanly once they exit', async () => {
    const { arbiter, forked, ready, exit, stopAccepting, settle } = setup();
    ready(1);
    ready(2);
    arbiter.enqueue({ type: 'signal', signal: 'SIGTERM' });
    expect(stopAccepting).toHaveBeenCalledOnce();
    for (const worker of forked) expect(worker.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
    exit(1, 0);
    expect(await settle()).toBeUndefined();
    exit(2, 0);
    expect(await settle()).toEqual({ exitCode: ExitCode.Ok });
  });

  it('does not replace workers that exit during a stop', () => {
    const { arbiter, forked, ready, exit } = setup();
    ready(1);
    ready(2);
    arbiter.enqueue({ type: 'signal', signal: 'SIGTERM' });
    exit(1, null, 'SIGKILL');
    vi.advanceTimersByTime(10_000);
    expect(forked).toHaveLength(2);
  });

  it('kills workers still busy past the graceful timeout', () => {
    const { arbiter, forked, ready } = setup({ graceful_timeout: 5 });
    ready(1);
    ready(2);
    arbiter.enqueue({ type: 'signal', signal: 'SIGTERM' });
    vi.advanceTimersByTime(5_999);
    expect(forked[0]!.signals).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(forked.map((w) => w.signals)).toEqual([['SIGKILL'], ['SIGKILL']]);
  });

  it('turns a graceful stop into a fast one on a second SIGINT', () => {
    const { arbiter, forked, ready } = setup({ workers: 1 });
    ready(1);
    arbiter.enqueue({ type: 'signal', signal: 'SIGINT' });
    arbiter.enqueue({ type: 'signal', signal: 'SIGINT' });
    expect(forked[0]!.sent.map((m) => m.type === 'stop' && m.mode)).toEqual(['graceful', 'fast']);
  });

  it('stops fast on SIGQUIT', () => {
    const { arbiter, forked, ready } = setup({ workers: 1 });
    ready(1);
    arbiter.enqueue({ type: 'signal', signal: 'SIGQUIT' });
    expect(forked[0]!.sent).toEqual([{ type: 'stop', mode: 'fast', timeoutMs: 30_000 }]);
  });

  it('tells systemd it is stopping once, when a crash loop halts it', async () => {
    const { forked, ready, exit, settle, events } = setup({ workers: 1, max_restarts: 0 });
    ready(1);
    exit(1, 1);
    exit(2, null, 'SIGSEGV');
    expect(await settle()).toMatchObject({ error: { code: 'CRASH_LOOP', exitCode: ExitCode.WorkerBoot } });
    expect(forked).toHaveLength(2);
    expect(events.filter((e) => e.type === 'stopping')).toHaveLength(1);
  });

  it('tells systemd it is stopping once, however many stop signals follow', () => {
    const { ready, signal, events } = setup({ workers: 1, shutdown_delay: 5 });
    ready(1);
    signal('SIGTERM');
    signal('SIGINT');
    signal('SIGQUIT');
    expect(events.filter((e) => e.type === 'stopping')).toHaveLength(1);
  });

  it('ends a worker still booting at a stop with SIGTERM, and tells it to stop if it says ready anyway', () => {
    const { arbiter, forked, ready } = setup({ workers: 1 });
    arbiter.enqueue({ type: 'signal', signal: 'SIGTERM' });
    expect(forked[0]!.signals).toEqual(['SIGTERM']);
    ready(1);
    expect(forked[0]!.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
  });

  it('stops within its stop timeout while it is still forking a large worker count, forking no more', async () => {
    const { forked, signal, exit, settle } = setup({ workers: 1000 });
    expect(forked).toHaveLength(8);
    signal('SIGTERM');
    vi.advanceTimersByTime(0);
    expect(forked).toHaveLength(8);
    expect(forked.map((w) => w.signals)).toEqual(Array(8).fill(['SIGTERM']));
    for (const worker of forked.slice(0, 7)) exit(worker.id, null, 'SIGTERM');
    vi.advanceTimersByTime(2_000);
    expect(forked[7]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    exit(8, null, 'SIGKILL');
    expect(await settle()).toEqual({ exitCode: ExitCode.Ok });
  });

  it('forks a large worker count a few at a time, so that commands are heard in between', () => {
    const { forked } = setup({ workers: 20 });
    expect(forked).toHaveLength(8);
    vi.advanceTimersToNextTimer();
    expect(forked).toHaveLength(16);
    vi.advanceTimersToNextTimer();
    expect(forked).toHaveLength(20);
  });

  it("counts its workers' Python deaths by cause, and names a request that keeps being in flight at them", () => {
    const { arbiter, ready, message, logged } = setup({ workers: 1 });
    ready(1);
    for (let i = 0; i < 4; i++) message(1, { type: 'app-died', cause: i === 0 ? 'exit 13' : 'SIGSEGV', inFlight: [`GET /crash?n=${String(i)}`] });
    const named = logged.filter((l) => l.msg === 'this request was in flight when a Python process died, again');
    expect(named.map((l) => [l.request, l.deaths])).toEqual([
      ['GET /crash', 2],
      ['GET /crash', 4],
    ]);
    expect(arbiter.snapshot().deaths).toEqual([
      { process: 'python', cause: 'exit 13', count: 1 },
      { process: 'python', cause: 'SIGSEGV', count: 3 },
    ]);
    expect(arbiter.snapshot().workers.map((w) => w.state)).toEqual(['ready']);
  });

  it('counts a worker process that could not be started as a boot failure', async () => {
    const { arbiter, settle } = setup({ workers: 1 });
    arbiter.enqueue({ type: 'worker-spawn-failed', workerId: 1, reason: 'EAGAIN' });
    expect(await settle()).toMatchObject({ error: { code: 'WORKER_BOOT_FAILED', exitCode: ExitCode.WorkerBoot, message: expect.stringContaining('EAGAIN') as unknown } });
  });

  it('says in one status how each worker is doing and why workers died', () => {
    const { arbiter, ready, exit } = setup({ workers: 2, timeout: 1 });
    ready(1);
    ready(2);
    exit(2, null, 'SIGKILL');
    vi.advanceTimersByTime(1_250);
    const status = arbiter.snapshot();
    expect(status).toMatchObject({ phase: 'running', generation: 1, target: 2 });
    expect(arbiter.readiness).toBe('ready');
    // The hung worker's replacement boots while SIGABRT and SIGKILL see it out.
    expect(status.workers.map((w) => [w.id, w.state])).toEqual([
      [1, 'hung'],
      [3, 'booting'],
      [4, 'booting'],
    ]);
    expect(status.deaths).toEqual([{ process: 'worker', cause: 'SIGKILL', count: 1 }]);
  });
});

describe('arbiter reloads', () => {
  it('on SIGHUP starts a new generation with the reloaded config, and stops the old one only once every new worker is ready', async () => {
    const { forked, ready, signal, flush, dispatcher, events } = setup();
    ready(1);
    ready(2);
    signal('SIGHUP');
    await flush();
    const [, , a, b] = forked;
    expect(forked.map((w) => w.config.label)).toEqual(['first', 'first', 'reloaded', 'reloaded']);
    ready(a!.id);
    expect(forked[0]!.sent).toEqual([]);
    expect(dispatcher.readyCount).toBe(2);
    ready(b!.id);
    for (const old of forked.slice(0, 2)) expect(old.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
    expect(a!.sent).toEqual([]);
    expect(dispatcher.readyCount).toBe(2);
    expect(events).toContainEqual({ type: 'reloaded', ok: true, generation: 2, workers: 2 });
  });

  it('tells the workers of a reload the count a scale set while they booted, once they take over', async () => {
    const { forked, ready, signal, flush } = setup({ workers: 1 });
    ready(1);
    signal('SIGHUP');
    await flush();
    const next = forked[1]!;
    expect(next.config.workers).toBe(1);
    signal('SIGTTIN');
    // The old worker is told; the new one, not serving yet, is not.
    expect(forked[0]!.sent).toContainEqual({ type: 'workers', count: 2 });
    expect(next.sent).toEqual([]);
    for (const worker of forked.slice(1)) ready(worker.id);
    expect(next.sent).toEqual([{ type: 'workers', count: 2 }]);
    expect(forked.slice(2).every((w) => w.sent.every((m) => m.type !== 'workers'))).toBe(true);
  });

  it('keeps the old workers serving when the reloaded config is invalid', async () => {
    const { forked, ready, signal, flush, willLoad, events, dispatcher } = setup();
    ready(1);
    ready(2);
    willLoad(Promise.reject(new Error('workers: expected a positive integer')));
    signal('SIGHUP');
    await flush();
    expect(forked).toHaveLength(2);
    expect(forked[0]!.sent).toEqual([]);
    expect(dispatcher.readyCount).toBe(2);
    expect(events.at(-1)).toEqual({ type: 'reloaded', ok: false, generation: 1, workers: 2 });
  });

  it('keeps the old workers serving when a new worker cannot load the app, and ends the other new ones', async () => {
    const { forked, ready, signal, flush, message, exit, settle, dispatcher } = setup();
    ready(1);
    ready(2);
    signal('SIGHUP');
    await flush();
    ready(3);
    message(4, { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed to load' });
    exit(4, ExitCode.AppLoad);
    expect(forked[2]!.signals).toEqual(['SIGTERM']);
    expect(forked[0]!.sent).toEqual([]);
    expect(dispatcher.readyCount).toBe(2);
    exit(3, 0);
    expect(await settle()).toBeUndefined();
    vi.advanceTimersByTime(60_000);
    expect(forked).toHaveLength(4);
  });

  it('runs a SIGHUP that arrives during a reload after it, and many as one', async () => {
    const { forked, ready, signal, flush } = setup({ workers: 1 });
    ready(1);
    signal('SIGHUP');
    await flush();
    signal('SIGHUP');
    signal('SIGHUP');
    await flush();
    expect(forked).toHaveLength(2);
    ready(2);
    await flush();
    expect(forked).toHaveLength(3);
    ready(3);
    await flush();
    expect(forked).toHaveLength(3);
    expect(forked[1]!.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
  });

  it('waits for the first generation before a SIGHUP that comes during startup', async () => {
    const { forked, ready, signal, flush } = setup({ workers: 1 });
    signal('SIGHUP');
    await flush();
    expect(forked).toHaveLength(1);
    ready(1);
    await flush();
    expect(forked).toHaveLength(2);
  });

  it('keeps a worker of an aborted reload out of the next one when its ready comes late', async () => {
    const { forked, ready, signal, flush, message, exit, dispatcher, events } = setup();
    ready(1);
    ready(2);
    signal('SIGHUP');
    await flush();
    signal('SIGHUP');
    message(4, { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed to load' });
    exit(4, ExitCode.AppLoad);
    // Worker 3 said ready before its SIGTERM; the queued reload has begun meanwhile.
    ready(3);
    expect(forked[2]!.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
    await flush();
    const [, , , , e, f] = forked;
    ready(e!.id);
    ready(f!.id);
    expect(events.at(-1)).toEqual({ type: 'reloaded', ok: true, generation: 2, workers: 2 });
    expect(dispatcher.readyCount).toBe(2);
  });

  it('takes the worker count of the reloaded config', async () => {
    const { forked, ready, signal, flush, willLoad } = setup({ workers: 1 });
    ready(1);
    willLoad(Promise.resolve({ ...baseConfig, workers: 3, label: 'three' }));
    signal('SIGHUP');
    await flush();
    expect(forked.filter((w) => w.config.label === 'three')).toHaveLength(3);
  });
});

describe('arbiter recycling, heartbeats and scaling', () => {
  it('replaces a worker that asks to be recycled, stopping it only once its replacement is ready', () => {
    const { forked, ready, message, dispatcher } = setup({ workers: 1 });
    ready(1);
    message(1, { type: 'recycle', reason: 'max-requests', detail: 'served 100 requests' });
    expect(forked).toHaveLength(2);
    expect(dispatcher.readyCount).toBe(1);
    expect(forked[0]!.sent).toEqual([]);
    ready(2);
    expect(forked[0]!.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
    expect(dispatcher.readyCount).toBe(1);
  });

  it('gives a worker whose request timed out no new connections while its replacement boots', () => {
    const { forked, ready, message, dispatcher, exit, settle } = setup({ workers: 1 });
    ready(1);
    message(1, { type: 'recycle', reason: 'request-timeout', detail: 'GET / timed out' });
    expect(dispatcher.readyCount).toBe(0);
    ready(2);
    exit(1, 0);
    expect(dispatcher.readyCount).toBe(1);
    expect(forked).toHaveLength(2);
    return expect(settle()).resolves.toBeUndefined();
  });

  it('does not count the exit of a worker it stopped as a failure', async () => {
    const { forked, ready, message, exit, settle } = setup({ workers: 1, max_restarts: 0 });
    ready(1);
    message(1, { type: 'recycle', reason: 'max-lifetime', detail: 'ran 60 s' });
    ready(2);
    exit(1, 0);
    vi.advanceTimersByTime(60_000);
    expect(forked).toHaveLength(2);
    expect(await settle()).toBeUndefined();
  });

  it('kills a worker that stops answering heartbeats with SIGABRT, then SIGKILL, and replaces it', () => {
    const { forked, ready, message, exit, dispatcher } = setup({ workers: 1, timeout: 1 });
    ready(1);
    vi.advanceTimersByTime(250);
    const ping = forked[0]!.sent.find((m) => m.type === 'ping');
    expect(ping).toBeDefined();
    message(1, { type: 'pong', seq: ping?.type === 'ping' ? ping.seq : 0 });
    vi.advanceTimersByTime(1_000);
    expect(forked[0]!.signals).toEqual([]);
    vi.advanceTimersByTime(500);
    expect(forked[0]!.signals).toEqual(['SIGABRT']);
    expect(dispatcher.readyCount).toBe(0);
    vi.advanceTimersByTime(2_000);
    expect(forked[0]!.signals).toEqual(['SIGABRT', 'SIGKILL']);
    exit(1, null, 'SIGKILL');
    vi.advanceTimersByTime(100);
    expect(forked).toHaveLength(2);
  });

  it('kills a hung worker 2 s after SIGABRT even when a graceful stop comes meanwhile', () => {
    const { forked, ready, signal } = setup({ workers: 1, timeout: 1 });
    ready(1);
    vi.advanceTimersByTime(1_250);
    expect(forked[0]!.signals).toEqual(['SIGABRT']);
    signal('SIGTERM');
    vi.advanceTimersByTime(2_000);
    expect(forked[0]!.signals).toEqual(['SIGABRT', 'SIGKILL']);
    expect(forked[0]!.sent.filter((m) => m.type === 'stop')).toEqual([]);
  });

  it('adds a worker on SIGTTIN and stops one on SIGTTOU, never going below one', () => {
    const { forked, ready, signal, dispatcher } = setup({ workers: 1 });
    ready(1);
    signal('SIGTTIN');
    expect(forked).toHaveLength(2);
    ready(2);
    expect(dispatcher.readyCount).toBe(2);
    signal('SIGTTOU');
    // Told the new count with the others, then stopped: the youngest goes first.
    expect(forked[1]!.sent).toEqual([
      { type: 'workers', count: 1 },
      { type: 'stop', mode: 'graceful', timeoutMs: 30_000 },
    ]);
    expect(dispatcher.readyCount).toBe(1);
    signal('SIGTTOU');
    expect(forked[0]!.sent.filter((m) => m.type !== 'workers')).toEqual([]);
  });

  it('boots each worker with the count it runs among: the target after scaling, not the configured count', () => {
    const { forked, ready, signal } = setup({ workers: 1 });
    ready(1);
    signal('SIGTTIN');
    signal('SIGTTIN');
    expect(forked.map((w) => w.config.workers)).toEqual([1, 2, 3]);
    expect(forked.map((w) => w.config.label)).toEqual(['first', 'first', 'first']);
  });

  it('tells each serving worker the count when scaling moves it, and a worker that booted meanwhile once it is ready', () => {
    const { forked, ready, signal } = setup({ workers: 1 });
    const told = (i: number) => forked[i]!.sent.filter((m) => m.type === 'workers');
    ready(1);
    signal('SIGTTIN');
    expect(told(0)).toEqual([{ type: 'workers', count: 2 }]);
    // Worker 2 boots with 2 and cannot take a message yet; worker 3 boots with 3.
    signal('SIGTTIN');
    expect(told(0)).toEqual([{ type: 'workers', count: 2 }, { type: 'workers', count: 3 }]);
    expect(told(1)).toEqual([]);
    ready(2);
    ready(3);
    expect(told(1)).toEqual([{ type: 'workers', count: 3 }]);
    expect(told(2)).toEqual([]);
    signal('SIGTTOU');
    for (const i of [0, 1, 2]) expect(told(i).at(-1)).toEqual({ type: 'workers', count: 2 });
  });

  it('reopens its own logs and tells every worker to, on SIGUSR1', () => {
    const { forked, ready, signal, reopenLogs } = setup();
    ready(1);
    signal('SIGUSR1');
    expect(reopenLogs).toHaveBeenCalledOnce();
    for (const worker of forked) expect(worker.sent).toContainEqual({ type: 'reopen-logs' });
  });

  it('counts a replacement that cannot boot after start as a failure, instead of stopping', async () => {
    const { forked, ready, message, exit, settle } = setup({ workers: 1 });
    ready(1);
    exit(1, null, 'SIGSEGV');
    vi.advanceTimersByTime(100);
    message(2, { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed to load' });
    exit(2, ExitCode.AppLoad);
    expect(await settle()).toBeUndefined();
    vi.advanceTimersByTime(200);
    expect(forked).toHaveLength(3);
  });
});

describe('arbiter shutdown delay', () => {
  it('keeps serving for shutdown_delay after SIGTERM, then stops gracefully', () => {
    const { forked, ready, signal, stopAccepting, dispatcher, arbiter } = setup({ workers: 1, shutdown_delay: 5 });
    ready(1);
    signal('SIGTERM');
    expect(arbiter.readiness).toBe('draining');
    vi.advanceTimersByTime(4_999);
    expect(stopAccepting).not.toHaveBeenCalled();
    expect(dispatcher.readyCount).toBe(1);
    vi.advanceTimersByTime(1);
    expect(stopAccepting).toHaveBeenCalledOnce();
    expect(forked[0]!.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
  });

  it('stops gracefully without the delay on SIGINT', () => {
    const { forked, ready, signal, stopAccepting } = setup({ workers: 1, shutdown_delay: 5 });
    ready(1);
    signal('SIGINT');
    expect(stopAccepting).toHaveBeenCalledOnce();
    expect(forked[0]!.sent).toEqual([{ type: 'stop', mode: 'graceful', timeoutMs: 30_000 }]);
  });

  it('stops at once on SIGINT during the delay', () => {
    const { forked, ready, signal } = setup({ workers: 1, shutdown_delay: 5 });
    ready(1);
    signal('SIGTERM');
    signal('SIGINT');
    expect(forked[0]!.sent).toEqual([{ type: 'stop', mode: 'fast', timeoutMs: 30_000 }]);
  });
});

describe('arbiter commands from the control socket', () => {
  const scale = (arbiter: Arbiter<TestConfig>, change: { to: number } | { by: number }) => {
    const results: unknown[] = [];
    arbiter.enqueue({ type: 'scale', change, by: 'test', done: (result) => results.push(result) });
    return results[0];
  };

  it('scales to a count or by a change, stopping the youngest first, and says from what to what', () => {
    const { arbiter, forked, ready } = setup({ workers: 2 });
    ready(1);
    ready(2);
    expect(scale(arbiter, { to: 4 })).toEqual({ ok: true, from: 2, to: 4 });
    expect(forked).toHaveLength(4);
    ready(3);
    expect(scale(arbiter, { by: -2 })).toEqual({ ok: true, from: 4, to: 2 });
    // Worker 4 is still booting and goes first (SIGTERM: it has nothing to drain), then the last to become ready.
    expect(forked.filter((w) => w.signals.includes('SIGTERM')).map((w) => w.id)).toEqual([4]);
    expect(forked.filter((w) => w.sent.some((m) => m.type === 'stop')).map((w) => w.id)).toEqual([3]);
  });

  it('refuses to scale below one worker, and while stopping', () => {
    const { arbiter, ready, signal } = setup({ workers: 2 });
    ready(1);
    ready(2);
    expect(scale(arbiter, { by: -2 })).toEqual({ ok: false, reason: 'one worker is the least (there are 2)' });
    signal('SIGTERM');
    expect(scale(arbiter, { to: 3 })).toEqual({ ok: false, reason: 'bicorn is stopping' });
  });

  it('tells who asked for a reload how it ended, and one queued behind it after that one', async () => {
    const { arbiter, forked, ready, flush } = setup({ workers: 1 });
    ready(1);
    const outcomes: unknown[] = [];
    arbiter.enqueue({ type: 'reload', reason: 'first', done: (result) => outcomes.push(['first', result]) });
    arbiter.enqueue({ type: 'reload', reason: 'second', done: (result) => outcomes.push(['second', result]) });
    await flush();
    ready(2);
    expect(outcomes).toEqual([['first', { ok: true, generation: 2, workers: 1 }]]);
    await flush();
    ready(forked.at(-1)!.id);
    expect(outcomes).toEqual([
      ['first', { ok: true, generation: 2, workers: 1 }],
      ['second', { ok: true, generation: 3, workers: 1 }],
    ]);
  });

  it('tells who asked for a reload that the configuration is invalid', async () => {
    const { arbiter, ready, flush, willLoad } = setup({ workers: 1 });
    ready(1);
    willLoad(Promise.reject(new Error('bad value')));
    const outcomes: unknown[] = [];
    arbiter.enqueue({ type: 'reload', reason: 'test', done: (result) => outcomes.push(result) });
    await flush();
    expect(outcomes).toEqual([{ ok: false, reason: 'the configuration is invalid: Error: bad value' }]);
  });

  it('stops without shutdown_delay, gracefully or fast, as asked', () => {
    const { arbiter, forked, ready, stopAccepting } = setup({ workers: 1, shutdown_delay: 5 });
    ready(1);
    arbiter.enqueue({ type: 'stop', mode: 'graceful', by: 'test' });
    expect(stopAccepting).toHaveBeenCalledOnce();
    arbiter.enqueue({ type: 'stop', mode: 'graceful', by: 'test' });
    arbiter.enqueue({ type: 'stop', mode: 'fast', by: 'test' });
    expect(forked[0]!.sent.map((m) => m.type === 'stop' && m.mode)).toEqual(['graceful', 'fast']);
  });

  it('keeps why each worker was started, and says why each one is replaced', async () => {
    const { arbiter, forked, ready, exit, message, flush, events } = setup({ workers: 2 });
    ready(1);
    ready(2);
    scale(arbiter, { by: 1 });
    ready(3);
    exit(1, null, 'SIGKILL');
    vi.advanceTimersByTime(100);
    ready(4);
    message(2, { type: 'recycle', reason: 'max-requests', detail: 'served 10 requests' });
    ready(5);
    expect(arbiter.snapshot().workers.map((w) => [w.id, w.startedFor])).toEqual([
      [2, { kind: 'start' }],
      [3, { kind: 'scale' }],
      [4, { kind: 'replacement', cause: 'killed', replaces: 1 }],
      [5, { kind: 'replacement', cause: 'max-requests', replaces: 2 }],
    ]);
    expect(events.filter((e) => e.type === 'restart')).toEqual([
      { type: 'restart', workerId: 1, cause: 'killed' },
      { type: 'restart', workerId: 2, cause: 'max-requests' },
    ]);
    arbiter.enqueue({ type: 'reload', reason: 'test' });
    await flush();
    expect(arbiter.snapshot().workers.filter((w) => w.generation === 2).map((w) => w.startedFor)).toEqual([{ kind: 'reload' }, { kind: 'reload' }, { kind: 'reload' }]);
    expect(forked).toHaveLength(8);
  });
});

import { ExitCode, type MasterMessage } from '@bicorn/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Arbiter, type ArbiterConfig, type Outcome } from './arbiter.js';
import { Dispatcher } from './dispatch.js';
import type { WorkerHandle, WorkerHost } from './worker-host.js';

class FakeWorker implements WorkerHandle {
  readonly pid = 1000;
  readonly sent: MasterMessage[] = [];
  readonly signals: NodeJS.Signals[] = [];
  constructor(readonly id: number) {}
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

const baseConfig: ArbiterConfig = { workers: 2, graceful_timeout: 30, restart_delay: 0.1, max_restarts: 3, restart_window: 60 };

function setup(config: Partial<ArbiterConfig> = {}) {
  const forked: FakeWorker[] = [];
  const host: WorkerHost = {
    fork(workerId) {
      const worker = new FakeWorker(workerId);
      forked.push(worker);
      return worker;
    },
  };
  const dispatcher = new Dispatcher();
  const stopAccepting = vi.fn();
  const onReady = vi.fn();
  const arbiter = new Arbiter({ config: { ...baseConfig, ...config }, host, dispatcher, log: pino({ level: 'silent' }), stopAccepting, onReady });
  let outcome: Outcome | undefined;
  void arbiter.done.then((o) => (outcome = o));
  arbiter.start();
  const ready = (id: number) => {
    arbiter.enqueue({ type: 'worker-message', workerId: id, message: { type: 'ready', interface: 'fetch' } });
  };
  const exit = (id: number, code: number | null, signal: NodeJS.Signals | null = null) => {
    arbiter.enqueue({ type: 'worker-exit', workerId: id, code, signal });
  };
  const settle = async () => {
    await Promise.resolve();
    return outcome;
  };
  return { arbiter, forked, dispatcher, stopAccepting, onReady, ready, exit, settle };
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
    expect(onReady).not.toHaveBeenCalled();
    expect(dispatcher.readyCount).toBe(1);
    ready(2);
    expect(onReady).toHaveBeenCalledOnce();
    expect(dispatcher.readyCount).toBe(2);
  });

  it('replaces a worker that dies, after a delay that doubles with each failure', () => {
    const { forked, ready, exit, dispatcher } = setup({ workers: 1 });
    ready(1);
    exit(1, null, 'SIGKILL');
    expect(dispatcher.readyCount).toBe(0);
    vi.advanceTimersByTime(99);
    expect(forked).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(forked).toHaveLength(2);
    ready(2);
    exit(2, 1);
    vi.advanceTimersByTime(199);
    expect(forked).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(forked).toHaveLength(3);
  });

  it('counts a worker that exits cleanly on its own as a failure, with the same back-off', () => {
    const { forked, ready, exit } = setup({ workers: 1 });
    ready(1);
    exit(1, 0);
    expect(forked).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(forked).toHaveLength(2);
  });

  it('stops with a crash-loop error after more than max_restarts failures in the window', async () => {
    const { forked, ready, exit, settle } = setup({ workers: 1, max_restarts: 2 });
    for (let i = 0; i < 3; i++) {
      const worker = forked.at(-1)!;
      ready(worker.id);
      exit(worker.id, 1);
      vi.advanceTimersByTime(10_000);
    }
    const outcome = await settle();
    expect(outcome).toMatchObject({ error: { code: 'CRASH_LOOP', exitCode: ExitCode.RuntimeFailure } });
  });

  it('forgets failures older than the restart window', async () => {
    const { forked, ready, exit, settle } = setup({ workers: 1, max_restarts: 1, restart_window: 5 });
    for (let i = 0; i < 3; i++) {
      const worker = forked.at(-1)!;
      ready(worker.id);
      exit(worker.id, 1);
      vi.advanceTimersByTime(6_000);
    }
    expect(await settle()).toBeUndefined();
    expect(forked).toHaveLength(4);
  });

  it('ends with the exit code a worker reported when it could not load the app', async () => {
    const { arbiter, forked, exit, settle } = setup();
    arbiter.enqueue({ type: 'worker-message', workerId: 1, message: { type: 'boot-failed', exitCode: ExitCode.AppLoad, message: 'app x failed' } });
    exit(1, ExitCode.AppLoad);
    expect(forked[1]!.sent).toContainEqual({ type: 'stop', mode: 'fast', timeoutMs: 30_000 });
    exit(2, 0);
    expect(await settle()).toMatchObject({ error: { code: 'WORKER_BOOT_FAILED', exitCode: ExitCode.AppLoad, message: 'app x failed' } });
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

  it('tells a worker that becomes ready during a stop to stop too', () => {
    const { arbiter, forked, ready } = setup({ workers: 1 });
    arbiter.enqueue({ type: 'signal', signal: 'SIGTERM' });
    ready(1);
    expect(forked[0]!.sent.filter((m) => m.type === 'stop')).toHaveLength(2);
  });
});

// What the control socket's commands do: each becomes a command on the arbiter's queue, as a
// signal would, and reload and scale answer once their outcome is known (unless asked not to
// wait). Runs in the master.
import { assertNever, type ControlRequest, type ControlResponse, type StatusReport } from '@bicorn/protocol';
import type { ArbiterEvent, ArbiterSnapshot } from './arbiter.js';
import type { Command, ReloadResult, ScaleResult } from './commands.js';
import type { ControlHandler } from './control-server.js';

export interface ControlDeps {
  readonly enqueue: (command: Command) => void;
  readonly snapshot: () => ArbiterSnapshot;
  readonly status: () => StatusReport;
  /** Calls `listener` with every arbiter event until the returned function is called. */
  readonly subscribe: (listener: (event: ArbiterEvent) => void) => () => void;
}

const BY = 'control socket';

export function controlHandler(deps: ControlDeps): ControlHandler {
  return async (request: ControlRequest, gone: Promise<void>): Promise<ControlResponse> => {
    switch (request.command) {
      case 'status':
        return { ok: true, message: '', status: deps.status() };
      case 'reopen-logs':
        deps.enqueue({ type: 'reopen-logs', by: BY });
        return { ok: true, message: 'reopening the log files of the master and its workers' };
      case 'stop':
        deps.enqueue({ type: 'stop', mode: request.mode, by: BY });
        return { ok: true, message: request.mode === 'fast' ? 'stopping at once' : 'stopping: requests in flight finish first' };
      case 'reload':
        return reload(deps, request.wait);
      case 'scale':
        return scale(deps, request, gone);
      default:
        return assertNever(request, 'control request');
    }
  };
}

async function reload(deps: ControlDeps, wait: boolean): Promise<ControlResponse> {
  if (!wait) {
    deps.enqueue({ type: 'reload', reason: BY });
    return { ok: true, message: 'reloading (bicorn status shows the new generation once it serves)' };
  }
  const result = await new Promise<ReloadResult>((done) => {
    deps.enqueue({ type: 'reload', reason: BY, done });
  });
  return result.ok
    ? { ok: true, message: `reloaded: generation ${String(result.generation)} serves with ${plural(result.workers, 'worker')}` }
    : { ok: false, error: `reload failed: ${result.reason}; the old workers keep serving` };
}

async function scale(deps: ControlDeps, request: Extract<ControlRequest, { command: 'scale' }>, gone: Promise<void>): Promise<ControlResponse> {
  const before = new Set(deps.snapshot().workers.map((w) => w.id));
  const result = await new Promise<ScaleResult>((done) => {
    deps.enqueue({ type: 'scale', change: 'to' in request ? { to: request.to } : { by: request.by }, by: BY, done });
  });
  if (!result.ok) return { ok: false, error: `cannot scale: ${result.reason}` };
  const { from, to } = result;
  if (from === to) return { ok: true, message: `already ${plural(to, 'worker')}` };
  if (!request.wait) return { ok: true, message: `scaling from ${String(from)} to ${plural(to, 'worker')}` };
  const after = deps.snapshot().workers;
  // Those this scale forked must become ready; those it stopped must be gone.
  const joining = new Set(after.filter((w) => !before.has(w.id)).map((w) => w.id));
  const leaving = new Set(after.filter((w) => before.has(w.id) && w.state === 'stopping').map((w) => w.id));
  const failure = await new Promise<string | undefined>((settle) => {
    let unsubscribe = (): void => undefined;
    const finish = (outcome: string | undefined): void => {
      unsubscribe();
      settle(outcome);
    };
    const check = (event: ArbiterEvent | undefined): void => {
      if (event?.type === 'worker-ready') joining.delete(event.workerId);
      if (event?.type === 'worker-exited') {
        if (joining.has(event.workerId)) {
          finish(`worker ${String(event.workerId)} exited before it was ready (see the log); bicorn replaces it`);
          return;
        }
        leaving.delete(event.workerId);
      }
      if (joining.size === 0 && leaving.size === 0) finish(undefined);
    };
    unsubscribe = deps.subscribe(check);
    // A client that leaves stops the wait, not the scaling.
    void gone.then(() => {
      finish('the client left');
    });
    check(undefined);
  });
  if (failure !== undefined) return { ok: false, error: `scaling from ${String(from)} to ${String(to)} workers: ${failure}` };
  return { ok: true, message: `scaled from ${String(from)} to ${plural(to, 'worker')}, all serving` };
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}

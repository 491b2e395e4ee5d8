// The ASGI lifespan protocol for an app run in-process: startup before the worker takes
// traffic, shutdown after it has drained, and the state dict that every scope gets a copy of.
// Transport-agnostic; runs in the worker.
import { describe, isEvent, type AppEvent } from './send-events.js';
import type { GatewayLog } from './log.js';
import type { AsgiLifespanCallable, LifespanReceiveEvent, LifespanScope } from './websocket-types.js';

export type LifespanMode = 'auto' | 'on' | 'off';

export interface LifespanLog extends GatewayLog {
  info(data: object, msg: string): void;
}

export interface Lifespan {
  /** What the app put in `scope.state` during startup; undefined when lifespan is off or unsupported. */
  readonly state: Record<string, unknown> | undefined;
  /** Sends lifespan.shutdown and waits for the app's answer, at most `timeoutMs`; never rejects. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** The app failed its startup: the worker cannot boot. The message is the app's own. */
export class LifespanFailed extends Error {
  override readonly name = 'LifespanFailed';
}

type StartupOutcome =
  | { readonly kind: 'complete' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'returned' }
  | { readonly kind: 'threw'; readonly error: unknown; readonly spoke: boolean };

const WITHOUT_LIFESPAN: Lifespan = Object.freeze({ state: undefined, shutdown: () => Promise.resolve() });
const ASGI = Object.freeze({ version: '3.0', spec_version: '2.0' } as const);
const OWN_CODE = new URL('.', import.meta.url).href;

/**
 * Runs the app's startup. `auto`: an app that throws on the lifespan scope without having sent
 * a lifespan event, or returns without answering, is served without lifespan (one info line
 * for the throw), as uvicorn and our Python runner do: an app that does not speak lifespan may
 * well take lifespan.startup before it fails on it. `on`: both are boot failures. Either mode:
 * lifespan.startup.failed, or a throw after the app sent a lifespan event, rejects with
 * LifespanFailed.
 */
export async function runLifespan(app: AsgiLifespanCallable, mode: LifespanMode, log: LifespanLog): Promise<Lifespan> {
  if (mode === 'off') return WITHOUT_LIFESPAN;
  const state: Record<string, unknown> = {};
  const scope: LifespanScope = { type: 'lifespan', asgi: ASGI, state };
  // An object, so that TypeScript sees the callbacks below change it.
  const progress: { phase: 'startup' | 'running' | 'shutdown' | 'ended' } = { phase: 'startup' };
  let tookStartup = false;
  // Whether the app sent a lifespan event at all, even a wrong one: then it speaks lifespan.
  let spoke = false;
  let settleStartup: (outcome: StartupOutcome) => void = () => undefined;
  const startup = new Promise<StartupOutcome>((resolve) => (settleStartup = resolve));
  let requestShutdown: () => void = () => undefined;
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));
  let shutdownDone: () => void = () => undefined;
  const shutdownAnswered = new Promise<void>((resolve) => (shutdownDone = resolve));

  const receive = async (): Promise<LifespanReceiveEvent> => {
    if (!tookStartup) {
      tookStartup = true;
      return { type: 'lifespan.startup' };
    }
    await shutdownRequested;
    return { type: 'lifespan.shutdown' };
  };

  const send = (event: unknown): Promise<void> => {
    try {
      answer(event);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const answer = (event: unknown): void => {
    if (!isEvent(event)) throw new TypeError(`send: event must be an object with a type, got ${describe(event)}`);
    if (typeof event.type === 'string' && event.type.startsWith('lifespan.')) spoke = true;
    const expected = progress.phase === 'startup' ? 'lifespan.startup' : progress.phase === 'shutdown' ? 'lifespan.shutdown' : undefined;
    switch (event.type) {
      case 'lifespan.startup.complete':
      case 'lifespan.shutdown.complete':
      case 'lifespan.startup.failed':
      case 'lifespan.shutdown.failed': {
        if (expected === undefined || !event.type.startsWith(expected)) {
          throw new Error(`ASGI lifespan order violated: ${event.type} sent ${progress.phase === 'running' ? 'before lifespan.shutdown' : 'out of turn'}`);
        }
        const failed = event.type.endsWith('.failed');
        const message = failed ? parseMessage(event, event.type) : '';
        if (progress.phase === 'startup') {
          progress.phase = 'running';
          settleStartup(failed ? { kind: 'failed', message } : { kind: 'complete' });
        } else {
          progress.phase = 'ended';
          if (failed) log.error({ message }, 'ASGI lifespan shutdown failed');
          shutdownDone();
        }
        return;
      }
      default:
        throw new TypeError(`send: unknown lifespan event type ${describe(event.type)}`);
    }
  };

  void (async () => {
    try {
      await app(scope, receive, send);
      if (progress.phase === 'startup') settleStartup({ kind: 'returned' });
    } catch (error) {
      if (progress.phase === 'startup') settleStartup({ kind: 'threw', error, spoke });
      else log.error({ err: error }, progress.phase === 'shutdown' ? 'exception in ASGI lifespan shutdown' : 'exception in ASGI lifespan task');
    }
    progress.phase = 'ended';
    shutdownDone();
  })();

  const outcome = await startup;
  switch (outcome.kind) {
    case 'complete':
      return {
        state,
        shutdown: async (timeoutMs) => {
          if (progress.phase === 'ended') return;
          progress.phase = 'shutdown';
          requestShutdown();
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
          if (await Promise.race([shutdownAnswered.then(() => false), timedOut])) log.warn({ timeoutMs }, 'ASGI lifespan shutdown did not finish in time');
          clearTimeout(timer);
        },
      };
    case 'failed':
      throw new LifespanFailed(outcome.message === '' ? 'the app sent lifespan.startup.failed without a message' : outcome.message);
    case 'returned':
      if (mode === 'on') throw new LifespanFailed('the app returned from the lifespan scope without sending lifespan.startup.complete');
      log.debug({}, 'ASGI app returned from the lifespan scope at once; serving without lifespan');
      return WITHOUT_LIFESPAN;
    case 'threw':
      if (mode === 'auto' && !outcome.spoke) {
        log.info({ reason: errorText(outcome.error, false) }, 'ASGI lifespan unsupported: the app raised on the lifespan scope; serving without it');
        return WITHOUT_LIFESPAN;
      }
      throw new LifespanFailed(errorText(outcome.error, true), { cause: outcome.error });
  }
}

function parseMessage(event: AppEvent, type: string): string {
  const message = event.message;
  if (message === undefined || message === null) return '';
  if (typeof message !== 'string') throw new TypeError(`${type}: message must be a string, got ${describe(message)}`);
  return message;
}

function errorText(error: unknown, where: boolean): string {
  if (!(error instanceof Error)) return String(error);
  const text = `${error.name}: ${error.message}`;
  // Where the app raised: its first frame, past the gateway's own when send() threw.
  const frame = where ? error.stack?.split('\n').find((line) => line.trimStart().startsWith('at ') && !line.includes(OWN_CODE)) : undefined;
  return frame === undefined ? text : `${text}\n${frame}`;
}

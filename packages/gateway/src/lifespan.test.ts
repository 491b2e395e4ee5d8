import { describe, expect, it } from 'vitest';
import { LifespanFailed, runLifespan, type LifespanLog } from './lifespan.js';
import type { AsgiLifespanCallable } from './websocket-types.js';

function recording() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_data: object, msg: string) => lines.push({ level, msg });
  const log: LifespanLog = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  return { log, lines };
}

const complete: AsgiLifespanCallable = async (scope, receive, send) => {
  await receive();
  scope.state.ready = true;
  await send({ type: 'lifespan.startup.complete' });
  await receive();
  await send({ type: 'lifespan.shutdown.complete' });
};

describe('runLifespan', () => {
  it('resolves after startup with the state the app filled, and runs the shutdown when asked', async () => {
    const events: string[] = [];
    const { log } = recording();
    const lifespan = await runLifespan(async (scope, receive, send) => {
      events.push((await receive()).type);
      scope.state.db = 'up';
      await send({ type: 'lifespan.startup.complete' });
      events.push((await receive()).type);
      await send({ type: 'lifespan.shutdown.complete' });
      events.push('returned');
    }, 'auto', log);
    expect(lifespan.state).toEqual({ db: 'up' });
    expect(events).toEqual(['lifespan.startup']);
    await lifespan.shutdown(1000);
    expect(events).toEqual(['lifespan.startup', 'lifespan.shutdown', 'returned']);
  });

  it('rejects with the app\'s message on lifespan.startup.failed, in every mode', async () => {
    const failing: AsgiLifespanCallable = async (_scope, receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.failed', message: 'no database' });
    };
    await expect(runLifespan(failing, 'auto', recording().log)).rejects.toThrow(new LifespanFailed('no database'));
    await expect(runLifespan(failing, 'on', recording().log)).rejects.toThrow('no database');
  });

  it('takes an app that raises before taking lifespan.startup as not supporting it under auto, with one info line', async () => {
    const { log, lines } = recording();
    const lifespan = await runLifespan(() => {
      throw new Error('http only');
    }, 'auto', log);
    expect(lifespan.state).toBeUndefined();
    expect(lines).toEqual([{ level: 'info', msg: 'ASGI lifespan unsupported: the app raised on the lifespan scope; serving without it' }]);
    await lifespan.shutdown(10);
  });

  it('takes an app that raises after taking lifespan.startup, having sent no lifespan event, as not supporting it under auto', async () => {
    const { log, lines } = recording();
    const lifespan = await runLifespan(async (_scope, receive) => {
      await receive();
      throw new Error('unknown scope type lifespan');
    }, 'auto', log);
    expect(lifespan.state).toBeUndefined();
    expect(lines).toEqual([{ level: 'info', msg: 'ASGI lifespan unsupported: the app raised on the lifespan scope; serving without it' }]);
  });

  it('fails an app that raises after sending a lifespan event under auto, and any app that raises under on', async () => {
    const spokeThenRaised: AsgiLifespanCallable = async (_scope, receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.done' });
    };
    await expect(runLifespan(spokeThenRaised, 'auto', recording().log)).rejects.toThrow(/unknown lifespan event type/);
    const raisesInStartup: AsgiLifespanCallable = async (_scope, receive) => {
      await receive();
      throw new Error('pool exhausted');
    };
    await expect(runLifespan(raisesInStartup, 'on', recording().log)).rejects.toThrow(/pool exhausted/);
    await expect(runLifespan(() => Promise.reject(new Error('http only')), 'on', recording().log)).rejects.toThrow(/Error: http only/);
  });

  it('serves without lifespan an app that returns at once, except under on', async () => {
    expect((await runLifespan(async () => {}, 'auto', recording().log)).state).toBeUndefined();
    await expect(runLifespan(async () => {}, 'on', recording().log)).rejects.toThrow(/without sending lifespan\.startup\.complete/);
  });

  it('never calls the app under off', async () => {
    let called = false;
    const lifespan = await runLifespan(() => {
      called = true;
    }, 'off', recording().log);
    expect(called).toBe(false);
    expect(lifespan.state).toBeUndefined();
  });

  it('refuses events out of turn and unknown ones', async () => {
    const errors: string[] = [];
    const note = (error: unknown) => errors.push(String(error));
    await runLifespan(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'lifespan.shutdown.complete' }).catch(note);
      await send({ type: 'lifespan.startup.done' }).catch(note);
      await send({ type: 'lifespan.startup.complete' });
    }, 'auto', recording().log);
    expect(errors).toEqual([
      'Error: ASGI lifespan order violated: lifespan.shutdown.complete sent out of turn',
      'TypeError: send: unknown lifespan event type the string "lifespan.startup.done"',
    ]);
  });

  it('gives up on a shutdown that does not finish in time, with a warning', async () => {
    const { log, lines } = recording();
    const lifespan = await runLifespan(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.complete' });
      await new Promise(() => {});
    }, 'auto', log);
    await lifespan.shutdown(20);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });

  it('logs a failed shutdown', async () => {
    const { log, lines } = recording();
    const lifespan = await runLifespan(complete, 'auto', log);
    await lifespan.shutdown(1000);
    expect(lines).toEqual([]);
    const failing = await runLifespan(async (_scope, receive, send) => {
      await receive();
      await send({ type: 'lifespan.startup.complete' });
      await receive();
      await send({ type: 'lifespan.shutdown.failed', message: 'flush failed' });
    }, 'auto', log);
    await failing.shutdown(1000);
    expect(lines).toEqual([{ level: 'error', msg: 'ASGI lifespan shutdown failed' }]);
  });
});

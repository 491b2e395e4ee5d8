// What a worker loads: each app host, ws, and cosmiconfig only where they serve (a worker's
// memory is a budget: a bare node:http worker + 10 MiB).
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';

/** The modules process `pid` loaded, from the trace-modules preload's lines. */
function loadedBy(bicorn: BicornProcess, pid: number): string[] {
  const prefix = `module-loaded ${String(pid)} `;
  return bicorn.stderr
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

function traced(app: string): BicornProcess {
  return new BicornProcess(['-b', '127.0.0.1:0', fixture(app)], { env: { NODE_OPTIONS: `--import=${fixture('support/trace-modules.mjs')}` } });
}

describe('what a worker loads', () => {
  it('serves a Node listener without ws, cosmiconfig, the fetch host or the Python host', async () => {
    const bicorn = traced('apps/node.mjs:app');
    await bicorn.listening();
    const loaded = loadedBy(bicorn, bicorn.workerPid());
    expect(loaded.some((m) => m.includes('/packages/js/'))).toBe(true);
    expect(loaded.filter((m) => /\/ws\/|cosmiconfig|\/packages\/python\/|fetch-host/.test(m))).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('loads ws for an app that takes WebSockets', async () => {
    const bicorn = traced('apps/asgi.mjs');
    await bicorn.listening();
    expect(loadedBy(bicorn, bicorn.workerPid()).some((m) => m.includes('/ws/'))).toBe(true);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

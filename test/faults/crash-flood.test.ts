import { describe, expect, it } from 'vitest';
import { flood } from '../support/flood.js';
import { hasPython, servePython } from '../support/python.js';

describe.skipIf(!hasPython)('a flood of crashing requests', () => {
  it.each([
    { name: 'WSGI', app: 'faults_wsgi:application' },
    { name: 'ASGI', app: 'faults_asgi:app' },
  ])('10 a second for 30 s at -w 2 leave at least 95 % of the healthy requests sent meanwhile answered 200 ($name)', async ({ name, app }) => {
    const bicorn = servePython(app, ['-w', '2', '--graceful-timeout', '5']);
    const url = await bicorn.listening();
    const { crash, healthy } = await flood({ url, seconds: 30, kinds: { crash: { path: '/exit', perSecond: 10 }, healthy: { path: '/ok', perSecond: 20 } } });
    if (crash === undefined || healthy === undefined) throw new Error('no tallies');
    const ok = healthy.statuses['200'] ?? 0;
    const boots = bicorn.lines.filter((l) => l.msg === 'a new Python process is ready; the requests that waited for it start').length;
    console.log(`[figure] crash flood, ${name} (10/s /exit, 20/s /ok, 30 s, -w 2): healthy ${String(ok)}/${String(healthy.sent)} answered 200 (${JSON.stringify(healthy.statuses)}); crashing ${JSON.stringify(crash.statuses)}; ${String(boots)} Python processes started again`);
    expect(ok / healthy.sent).toBeGreaterThanOrEqual(0.95);
    expect(bicorn.hasExited).toBe(false);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

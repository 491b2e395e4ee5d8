import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A process of its own: the record is held for the life of the process, and shapes are V8's.
const built = new URL('../dist/tick-shape.js', import.meta.url).href;
const script = `
import { createHook } from 'node:async_hooks';
import { heldTickRecord, keepTickShape } from ${JSON.stringify(built)};
keepTickShape();
const first = heldTickRecord();
keepTickShape();
const noop = () => {};
// Busy, as a worker under load, then quiet: full collections with no tick queued.
for (let i = 0; i < 50_000; i += 1) {
  process.nextTick(noop, i);
  if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
}
for (let i = 0; i < 4; i += 1) {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
}
let fresh;
const hook = createHook({ init(_id, type, _trigger, resource) { if (type === 'TickObject') fresh ??= resource; } }).enable();
process.nextTick(noop);
hook.disable();
console.log(JSON.stringify({ keys: Object.keys(first ?? {}), kept: heldTickRecord() === first, sameShape: %HaveSameMap(first, fresh) }));
`;

describe('the shape of nextTick records', () => {
  it('is held by one record for good, which new records still share after a quiet spell of full collections', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--allow-natives-syntax', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    expect(JSON.parse(out)).toEqual({ keys: ['callback', 'args'], kept: true, sameShape: true });
  });
});

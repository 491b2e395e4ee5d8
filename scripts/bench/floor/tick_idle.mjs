// What a quiet spell does to process.nextTick, with and without @bicorn/runtime/tick-shape:
// nanoseconds of CPU per nextTick in three bursts, then full collections with nothing queued
// (what V8 runs once a process goes idle), then three bursts again.
//   pnpm build && node --expose-gc scripts/bench/floor/tick_idle.mjs [plain|kept]
import { keepTickShape } from '../../../packages/runtime/dist/tick-shape.js';

const mode = process.argv[2] ?? 'plain';
if (mode === 'kept') keepTickShape();
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

const noop = () => undefined;
const BURST = 300_000;

/** ns of CPU per nextTick over a burst, half with an argument as node's own calls have. */
async function burst() {
  const start = process.cpuUsage();
  for (let i = 0; i < BURST; i += 1) {
    process.nextTick(noop);
    process.nextTick(noop, i);
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  const spent = process.cpuUsage(start);
  return Math.round(((spent.user + spent.system) * 1000) / (2 * BURST));
}

const before = [await burst(), await burst(), await burst()];
for (let i = 0; i < 6; i += 1) {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const after = [await burst(), await burst(), await burst()];
console.log(`${mode}: ns per nextTick before the quiet spell ${before.join(', ')}; after it ${after.join(', ')}`);

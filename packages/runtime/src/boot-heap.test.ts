import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A process of its own for each case: the flag is process-wide, and so is what it held.
const built = new URL('../dist/boot-heap.js', import.meta.url).href;
const script = `
import { holdYoungGeneration, releaseYoungGeneration } from ${JSON.stringify(built)};
import { getHeapSpaceStatistics } from 'node:v8';
const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
// Objects that live on, as a boot's modules do: every scavenge finds them alive.
const kept = [];
const survive = () => { for (let i = 0; i < 300_000; i += 1) kept.push({ i, text: 'x' + i }); };
holdYoungGeneration();
survive();
const held = newSpace();
releaseYoungGeneration();
survive();
console.log(JSON.stringify({ held, released: newSpace() }));
`;

function newSpaceSizes(nodeFlags: readonly string[]): { held: number; released: number } {
  const out = execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('.', import.meta.url)) });
  return JSON.parse(out) as { held: number; released: number };
}

const MiB = 1024 * 1024;

describe('the young generation while a process boots', () => {
  it('stays at its start size while held, however much survives, and grows again once released', () => {
    const { held, released } = newSpaceSizes([]);
    expect(held).toBeLessThanOrEqual(4 * MiB);
    expect(released).toBeGreaterThan(2 * held);
  });

  it('is left alone when the user set the growth factor (either spelling)', () => {
    expect(newSpaceSizes(['--semi-space-growth-factor=2']).held).toBeGreaterThan(8 * MiB);
    expect(newSpaceSizes(['--semi_space_growth_factor=3']).held).toBeGreaterThan(8 * MiB);
  });
});

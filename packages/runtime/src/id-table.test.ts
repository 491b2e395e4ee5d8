import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { IdTable } from './id-table.js';

// A process of its own: what survives the young generation's collections is process-wide.
const built = new URL('../dist/id-table.js', import.meta.url).href;
const script = (kind: 'IdTable' | 'Map') => `
import { IdTable } from ${JSON.stringify(built)};
// As a server's table of requests under way: 64 live, each dropped when a later one comes.
const table = ${kind === 'Map' ? 'new Map()' : 'new IdTable()'};
let id = 0;
const churn = (count) => {
  for (let i = 0; i < count; i += 1) {
    id += 1;
    table.set(id, { id, held: new Array(64).fill(id) });
    if (id > 64) table.delete(id - 64);
  }
};
churn(200_000);
// A full collection, as a long-running server has many; it leaves the table in old space.
globalThis.gc();
console.log('after the full collection');
churn(1_000_000);
`;

/** The bytes the young generation's collections promoted to old space after the full one, from V8's own trace. */
function promotedAfterFullGc(kind: 'IdTable' | 'Map'): number {
  const out = execFileSync(process.execPath, ['--expose-gc', '--trace-gc-nvp', '--input-type=module', '-e', script(kind)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const after = out.slice(out.indexOf('after the full collection'));
  return [...after.matchAll(/gc=s .*? promoted=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

const MiB = 1024 * 1024;

describe('IdTable', () => {
  it('keeps entries by id, counts them, and gives them back in increasing id order', () => {
    const table = new IdTable<string>();
    table.set(3, 'c');
    table.set(1, 'a');
    table.set(2, 'b');
    table.set(2, 'B');
    expect(table.size).toBe(3);
    expect([table.get(2), table.get(4)]).toEqual(['B', undefined]);
    expect([table.delete(1), table.delete(1)]).toEqual([true, false]);
    expect([table.ids(), table.values(), table.size]).toEqual([[2, 3], ['B', 'c'], 2]);
    table.clear();
    expect([table.size, table.ids()]).toEqual([0, []]);
  });

  it('adds under ids of its own, the next free one, wrapping around past the ones still in use', () => {
    const table = new IdTable<string>(4);
    expect(['a', 'b', 'c'].map((value) => table.add(value))).toEqual([0, 1, 2]);
    table.delete(1);
    // 3, then around: 0 and 2 are in use, 1 is free again.
    expect([table.add('d'), table.add('e'), table.get(0)]).toEqual([3, 1, 'a']);
    expect(table.size).toBe(4);
    table.delete(0);
    expect(table.add('f')).toBe(0);
  });

  it('agrees with a Map through a churn of sets, gets and deletes, growing past its first size', () => {
    // A seeded generator: a failure replays the same way.
    let seed = 12_345;
    const random = (below: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % below;
    };
    // Ids from a few ranges: small ones, a run far apart, the largest a stream id takes.
    const pick = () => [random(300), 2 ** 31 + random(300), 0xffff_ffff - random(300)][random(3)]!;
    const table = new IdTable<number>();
    const model = new Map<number, number>();
    for (let step = 0; step < 20_000; step += 1) {
      const id = pick();
      const action = random(3);
      if (action === 0) {
        table.set(id, step);
        model.set(id, step);
      } else if (action === 1) {
        expect(table.delete(id)).toBe(model.delete(id));
      } else {
        expect(table.get(id)).toBe(model.get(id));
      }
      expect(table.size).toBe(model.size);
    }
    expect(model.size).toBeGreaterThan(64);
    const sorted = [...model.keys()].sort((a, b) => a - b);
    expect(table.ids()).toEqual(sorted);
    expect(table.values()).toEqual(sorted.map((id) => model.get(id)));
  });

  it('keeps every entry through growing to a burst and shrinking back', () => {
    const table = new IdTable<number>();
    for (let id = 0; id < 20_000; id += 1) table.set(id * 7, id);
    // Down to a few, the table shrinking on the way, then up again.
    for (let id = 0; id < 19_990; id += 1) expect(table.delete(id * 7)).toBe(true);
    expect(table.ids()).toEqual(Array.from({ length: 10 }, (_, i) => (19_990 + i) * 7));
    for (let id = 0; id < 100; id += 1) table.set(id, -id);
    expect(table.size).toBe(110);
    for (let id = 19_990; id < 20_000; id += 1) expect(table.get(id * 7)).toBe(id);
    for (let id = 0; id < 100; id += 1) expect(table.get(id)).toBe(-id);
  });

  it('finds every id left after deleting ones that others were placed past', () => {
    // More ids than the first capacity's worth, deleted from the middle out, so that ids placed
    // after a full slot move back into the one each delete frees.
    const table = new IdTable<number>();
    for (let id = 0; id < 1000; id += 1) table.set(id * 64, id);
    for (let id = 250; id < 750; id += 1) expect(table.delete(id * 64)).toBe(true);
    for (let id = 0; id < 1000; id += 1) expect(table.get(id * 64)).toBe(id < 250 || id >= 750 ? id : undefined);
    expect(table.size).toBe(500);
  });

  it('leaves nothing to survive the young generation after a full collection, where a Map with the same churn does', () => {
    // The Map is the control: the harness sees the fault where it is.
    expect(promotedAfterFullGc('Map')).toBeGreaterThan(20 * MiB);
    expect(promotedAfterFullGc('IdTable')).toBeLessThan(MiB);
  });
});

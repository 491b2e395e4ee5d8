// What a worker's tables by id cost per request: @bicorn/runtime/id-table against the object
// used as a dictionary it replaced, with a worker's churn (64 requests under way, each entered,
// looked up twice and dropped), for ids the table hands out and for the Python host's stream
// ids, which count up to 2^32 - 1. Nanoseconds of CPU per request and table, best of 5, with
// the harness's own (NoTable) in each.
//   pnpm build && node scripts/bench/floor/id_table.mjs [IdTable|DictionaryTable|NoTable]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IdTable } from '../../../packages/runtime/dist/id-table.js';

/** The table before: an object with a null prototype, keyed by id. */
class DictionaryTable {
  #entries = Object.create(null);
  #nextId = 0;
  get(id) {
    return this.#entries[id];
  }
  set(id, value) {
    this.#entries[id] = value;
  }
  add(value) {
    let id = this.#nextId;
    while (this.#entries[id] !== undefined) id = (id + 1) % 2 ** 30;
    this.#nextId = (id + 1) % 2 ** 30;
    this.#entries[id] = value;
    return id;
  }
  delete(id) {
    if (this.#entries[id] === undefined) return false;
    delete this.#entries[id];
    return true;
  }
}

/** The harness alone: what the figures above it include besides a table. */
class NoTable {
  #nextId = 0;
  get() {
    return undefined;
  }
  set() {}
  add() {
    this.#nextId = (this.#nextId + 1) % 2 ** 30;
    return this.#nextId;
  }
  delete() {
    return false;
  }
}

const REQUESTS = 1_000_000;
const LIVE = 64;

/** ns per request: `firstId` undefined has the table hand out ids (add), else set() from a counter there. */
function churn(Table, firstId) {
  const table = new Table();
  // The ids under way, oldest first, in a ring.
  const live = new Array(LIVE).fill(-1);
  let next = firstId;
  const start = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i += 1) {
    const value = { i };
    let id;
    if (firstId === undefined) id = table.add(value);
    else {
      id = next;
      next = next >= 0xffff_ffff ? 1 : next + 1;
      table.set(id, value);
    }
    const old = live[i % LIVE];
    live[i % LIVE] = id;
    if (old !== -1) {
      table.get(old);
      table.get(old);
      table.delete(old);
    }
  }
  const spent = process.cpuUsage(start);
  return ((spent.user + spent.system) * 1000) / REQUESTS;
}

const cases = [
  ['ids it hands out (add)', undefined],
  ['ids from 1 (set)', 1],
  ['ids past 2^31 (set)', 2 ** 31 + 1],
];
const tables = [NoTable, DictionaryTable, IdTable];
const chosen = tables.find((table) => table.name === process.argv[2]);
if (chosen === undefined) {
  // Each table in a process of its own, so that no other shapes the call sites it runs through.
  for (const table of tables) execFileSync(process.execPath, [fileURLToPath(import.meta.url), table.name], { stdio: 'inherit' });
} else {
  for (const [label, firstId] of cases) {
    const runs = Array.from({ length: 5 }, () => churn(chosen, firstId));
    console.log(`${label.padEnd(24)} ${chosen.name.padEnd(16)} ${Math.min(...runs).toFixed(0)} ns a request`);
  }
}

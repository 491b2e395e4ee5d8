// Entries by a numeric id, for what takes an entry per request and drops it when the request
// ends: a hash table of our own, ids in a typed array and values in a plain one, each id in the
// slot its hash names or the first free one after it.
//
// Not a Map or a Set: V8 rehashes one that keeps adding and deleting into a new table and
// leaves the old table pointing at it, and once a full collection has put one of those tables
// in old space, each successor, with every value it holds, survives the scavenges that follow
// as garbage kept alive by garbage (measured in a worker: 1.8 MB promoted per scavenge instead
// of none, a third more CPU per request). Not an object used as a dictionary either, which has
// no such link but sends every set and delete through V8's runtime: 330-520 ns a request for
// each table, against 22-41 here (scripts/bench/floor/id_table.mjs). Here a table grows into
// new arrays and drops the old ones, which point at nothing. Runs in a worker.

/**
 * Where add() wraps its ids: below 2^30 they are small integers, which V8 handles without
 * boxing. The ids given to set() may be any integer from 0 to 2^32 - 1.
 */
const ADDED_ID_LIMIT = 2 ** 30;
const EMPTY = -1;
const FIRST_CAPACITY = 64;
/**
 * A table never shrinks below this many slots (16 KiB): a worker's requests in flight swing
 * between none and a few hundred from one turn of the event loop to the next, as the Python
 * process answers them in batches, and resizing with every swing cost more than the slots.
 */
const KEPT_CAPACITY = 1024;

export class IdTable<T> {
  /** The id in each slot, or EMPTY. */
  #ids!: Float64Array;
  #values!: (T | undefined)[];
  /** Capacity - 1: the capacity is a power of two, at least twice the size. */
  #mask!: number;
  /** 32 - log2(capacity): how far homeOf shifts the hash right. */
  #shift!: number;
  #size = 0;
  readonly #idLimit: number;
  /** Where add() looks for a free id next. */
  #nextId = 0;

  /** `idLimit`: add()'s ids are below it (a test's small table wraps sooner); the table never holds that many. */
  constructor(idLimit = ADDED_ID_LIMIT) {
    this.#idLimit = idLimit;
    this.#allocate(FIRST_CAPACITY);
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    const slot = this.#probe(id);
    return this.#ids[slot] === id ? this.#values[slot] : undefined;
  }

  /** `value` must not be undefined: undefined means "no entry". */
  set(id: number, value: T): void {
    const slot = this.#probe(id);
    this.#values[slot] = value;
    if (this.#ids[slot] === id) return;
    this.#ids[slot] = id;
    this.#size += 1;
    // At most half full, so that an id is found within a few slots of its own.
    if (2 * this.#size > this.#mask) this.#resize(2 * (this.#mask + 1));
  }

  /**
   * Adds `value` under an id of the table's own: the next one not in use, from 0 up and around
   * again, so that an entry older than a wrap (a long stream) keeps its id.
   */
  add(value: T): number {
    let id = this.#nextId;
    while (this.#ids[this.#probe(id)] === id) id = (id + 1) % this.#idLimit;
    this.#nextId = (id + 1) % this.#idLimit;
    this.set(id, value);
    return id;
  }

  /** Returns whether there was an entry. */
  delete(id: number): boolean {
    let hole = this.#probe(id);
    if (this.#ids[hole] !== id) return false;
    this.#size -= 1;
    // Each id after the hole, up to the first free slot, that the hole lies on its way to (from
    // its own slot on) moves back into it: every id stays reachable without markers of deleted
    // slots, which would lengthen the searches of a table that churns.
    const mask = this.#mask;
    const ids = this.#ids;
    const values = this.#values;
    let slot = hole;
    for (;;) {
      slot = (slot + 1) & mask;
      const moving = ids[slot] ?? EMPTY;
      if (moving === EMPTY) break;
      const home = this.#homeOf(moving);
      // The hole is on the way when it lies cyclically in [home, slot).
      if (((slot - home) & mask) >= ((slot - hole) & mask)) {
        ids[hole] = moving;
        values[hole] = values[slot];
        hole = slot;
      }
    }
    ids[hole] = EMPTY;
    values[hole] = undefined;
    // An eighth full: half the arrays go, so that a burst (thousands of slow clients at once)
    // does not hold its high-water mark for the worker's life. Growing at a half and shrinking
    // at an eighth, a table never resizes back and forth with a steady load.
    if (8 * this.#size < mask && mask + 1 > KEPT_CAPACITY) this.#resize((mask + 1) / 2);
    return true;
  }

  /** The ids, in increasing order. */
  ids(): number[] {
    const ids: number[] = [];
    for (const id of this.#ids) if (id !== EMPTY) ids.push(id);
    return ids.sort((a, b) => a - b);
  }

  /** The values, in increasing order of their ids. */
  values(): T[] {
    return this.ids().map((id) => this.get(id) as T);
  }

  clear(): void {
    this.#allocate(FIRST_CAPACITY);
  }

  /** The slot that holds id, or else the free slot where it would go. */
  #probe(id: number): number {
    const mask = this.#mask;
    const ids = this.#ids;
    let slot = this.#homeOf(id);
    for (;;) {
      const held = ids[slot];
      if (held === id || held === EMPTY) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /**
   * The slot an id is looked for from: its Fibonacci hash, the top bits of id times 2^32 / phi.
   * Not the id's own low bits, which would put a run of ids under way in one run of slots, and
   * every delete would then look through the run for the next free slot.
   */
  #homeOf(id: number): number {
    return Math.imul(id, 0x9e37_79b1) >>> this.#shift;
  }

  /** Empty arrays of `capacity` slots, a power of two. */
  #allocate(capacity: number): void {
    this.#ids = new Float64Array(capacity).fill(EMPTY);
    this.#values = new Array<T | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#shift = 32 - Math.log2(capacity);
    this.#size = 0;
  }

  #resize(capacity: number): void {
    const ids = this.#ids;
    const values = this.#values;
    this.#allocate(capacity);
    for (let slot = 0; slot < ids.length; slot += 1) {
      const id = ids[slot] ?? EMPTY;
      if (id !== EMPTY) this.set(id, values[slot] as T);
    }
  }
}

// Boot must not size the heap. V8 doubles a process's young generation whenever a scavenge finds
// most of it alive, and loading modules allocates little else: boot alone left the master and
// each worker with an 8 MiB new space, about 4-5 MiB of it resident, where a bare node:http
// process keeps 2. Its growth is held while a process boots and given back once it serves, so
// that load, not start-up, sizes it. V8 reads the factor at each growth, so setting it at run
// time takes effect. Its own entry: the master and the worker hold it before loading the rest.
import { setFlagsFromString } from 'node:v8';

const GROWTH_FLAG = 'semi-space-growth-factor';
/** V8's own default, given back once the process serves. */
const DEFAULT_GROWTH = 2;

let held = false;

/** Keeps the young generation at its start size until releaseYoungGeneration; a factor the user set (NODE_OPTIONS, node's flags) is left alone. */
export function holdYoungGeneration(): void {
  if (setByUser()) return;
  setFlagsFromString(`--${GROWTH_FLAG}=1`);
  held = true;
}

/** Lets the young generation grow again, as load needs; nothing if it was not held. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  held = false;
  setFlagsFromString(`--${GROWTH_FLAG}=${DEFAULT_GROWTH}`);
}

function setByUser(): boolean {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').replaceAll('_', '-');
  return flags.includes(GROWTH_FLAG);
}

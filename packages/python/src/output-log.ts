// The Python process's stdout, stderr and wsgi.errors, one log entry per line, tagged with the
// stream; a stack dump (faulthandler's threads, asyncio's tasks) becomes one entry of its own.
// Runs in the worker.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { HostLog } from './log.js';

/** How the runner marks a notice of its own on stderr that is no warning. */
const RUNNER_INFO = 'bicorn runner: info: ';
const STACK_HEADER = /^(?:Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):$|^Stack for <.*> \(most recent call last\):$/;
/** A dump arrives in one burst; a pause this long ends it. */
const DUMP_QUIET_MS = 50;

export function logOutput(stream: Readable | null, name: string, log: HostLog): void {
  if (stream === null) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let dump: string[] = [];
  let quiet: NodeJS.Timeout | undefined;
  const endDump = (): void => {
    clearTimeout(quiet);
    if (dump.length === 0) return;
    log.error({ stream: name, stacks: dump.join('\n').trimEnd() }, 'the Python app\'s stacks');
    dump = [];
  };
  lines.on('line', (line) => {
    const inDump = dump.length > 0 && (line === '' || /^\s/.test(line));
    if (STACK_HEADER.test(line) || inDump) {
      dump.push(line);
      clearTimeout(quiet);
      quiet = setTimeout(endDump, DUMP_QUIET_MS);
      return;
    }
    endDump();
    if (name === 'stdout') log.info({ stream: name }, line);
    else if (line.startsWith(RUNNER_INFO)) log.info({ stream: name }, line.slice(RUNNER_INFO.length));
    else log.warn({ stream: name }, line);
  });
  lines.on('close', endDump);
}

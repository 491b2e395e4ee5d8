// The Python process's output in the worker's log. The runner sends what the app writes to
// sys.stdout, sys.stderr and wsgi.errors, and its logging records, as LOG frames on the log pipe
// (fd 4): each is one entry, whatever newlines it holds, at the record's level (or info for
// stdout, warn for the others). What bypasses Python's streams (C code, child processes) reaches
// fds 1 and 2 raw and is logged line by line; a stack dump there (faulthandler's threads,
// asyncio's tasks) becomes one entry of its own. Runs in the worker.
import { FrameReader, type FrameOf } from '@bicorn/protocol';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { HostLog } from './log.js';

const STACK_HEADER = /^(?:Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):$|^Stack for <.*> \(most recent call last\):$/;
/** A dump arrives in one burst; a pause this long ends it. */
const DUMP_QUIET_MS = 50;

/** Logs each LOG frame from the log pipe as one entry. */
export function logFrames(pipe: Readable | null, log: HostLog): void {
  if (pipe === null) return;
  const reader = new FrameReader();
  const onData = (chunk: Buffer): void => {
    try {
      reader.push(chunk, (frame) => {
        if (frame.type !== 'log') throw new Error(`a ${frame.type} frame`);
        logEntry(frame, log);
      });
    } catch (error) {
      log.error({ reason: (error as Error).message }, 'invalid frame on the log pipe of the Python process; its output is no longer logged');
      // Read on without logging, so that the app never blocks on a full pipe.
      pipe.off('data', onData);
      pipe.resume();
    }
  };
  pipe.on('data', onData);
}

function logEntry(frame: FrameOf<'log'>, log: HostLog): void {
  const text = frame.text.endsWith('\n') ? frame.text.slice(0, frame.text.endsWith('\r\n') ? -2 : -1) : frame.text;
  const data = frame.source === 'runner' ? {} : frame.logger === '' ? { stream: frame.source } : { stream: frame.source, logger: frame.logger };
  switch (levelOf(frame)) {
    case 'error':
      log.error(data, text);
      return;
    case 'warn':
      log.warn(data, text);
      return;
    case 'info':
      log.info(data, text);
      return;
    case 'debug':
      log.debug(data, text);
      return;
  }
}

/** Python's level, else what a plain write to the stream means. */
function levelOf(frame: FrameOf<'log'>): 'error' | 'warn' | 'info' | 'debug' {
  const level = frame.level === 0 ? (frame.source === 'stdout' ? 20 : 30) : frame.level;
  if (level >= 40) return 'error';
  if (level >= 30) return 'warn';
  if (level >= 20) return 'info';
  return 'debug';
}

/** Logs raw output (fd 1 or 2) line by line, and a stack dump in it as one entry. */
export function logLines(stream: Readable | null, name: 'stdout' | 'stderr', log: HostLog): void {
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
    else log.warn({ stream: name }, line);
  });
  lines.on('close', endDump);
}

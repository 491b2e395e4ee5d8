// The typed IPC messages between the master and its workers, and the one parser for each
// direction. Anything that arrives over IPC goes through these before it is trusted.
import { BicornError } from './errors.js';
import { type ExitCode, isExitCode } from './exit-code.js';
import { FieldError, describe, fieldsOf, isBoolean, isCount, isRecord, isString, isStringOrNull, objectWith, oneOf, type FieldReader, type Fields } from './fields.js';
import { parseStats, type WorkerStats } from './worker-stats.js';

export type StopMode = 'graceful' | 'fast';

/** Why a worker asks to be replaced by a fresh one. */
export type RecycleReason = 'max-requests' | 'max-lifetime' | 'max-rss' | 'request-timeout';
const recycleReasons: readonly RecycleReason[] = ['max-requests', 'max-lifetime', 'max-rss', 'request-timeout'];

/**
 * What a worker serves TLS with: the files' contents as the master read them (keys are often
 * readable by root only), and the session ticket keys the master chose, the same in every
 * worker so that a session resumes whichever worker answers.
 */
export interface TlsBoot {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | null;
  /** 48 bytes, base64. */
  readonly ticketKeys: string;
  /** The listeners that serve TLS (every TCP one); the others serve plain HTTP. */
  readonly listeners: readonly number[];
}

/** What the master sends to a worker. */
export type MasterMessage =
  /** The worker's identity, the resolved config as plain data, and TLS; the answer to `hello`. */
  | { type: 'boot'; workerId: number; config: Readonly<Record<string, unknown>>; tls: TlsBoot | null }
  /** A connection accepted on listener `listener`; the socket travels as the message's handle. */
  | { type: 'connection'; listener: number }
  | { type: 'stop'; mode: StopMode; timeoutMs: number }
  /** A heartbeat: the worker answers `pong` with the same number from its event loop. */
  | { type: 'ping'; seq: number }
  /** Reopen log files (after logrotate moved them). */
  | { type: 'reopen-logs' }
  /**
   * Scaling moved the count of serving workers to `count`: a worker sizes what it shares by it
   * (its part of the spool budget, whether its frames leave once per turn), as one booted now would.
   */
  | { type: 'workers'; count: number };

/** What a worker sends to the master. */
export type WorkerMessage =
  /**
   * The worker listens for messages now. Sent first: a message sent before the worker's
   * module has registered its listener would be lost.
   */
  | { type: 'hello' }
  /**
   * The worker takes connections. `loadError` is set when the app failed to load under
   * --reload: the worker then answers every request with that error, until the next change.
   */
  | { type: 'ready'; interface: string; loadError: string | null }
  /**
   * The worker's Python process started (before the app loads): the pid that a gunicorn
   * config's master-side hooks see as worker.pid (prometheus_client's mark_process_dead).
   */
  | { type: 'app-process'; pid: number }
  /** The worker cannot serve; it exits with `exitCode` right after sending this. */
  | { type: 'boot-failed'; exitCode: ExitCode; message: string }
  /** A stop is under way and these many requests are still running. */
  | { type: 'draining'; inFlight: number }
  | { type: 'pong'; seq: number }
  /** The worker should be replaced; it goes on serving until the master stops it. */
  | { type: 'recycle'; reason: RecycleReason; detail: string }
  /** Every second: what `bicorn status` shows of the worker, and the counts for the metrics. */
  | WorkerStats
  /**
   * The worker has taken the connection handed to it last, and read its first request if one
   * came at once: the master hands it the next one only after this. With its load then.
   */
  | ({ type: 'accepted' } & Load)
  /** The worker's load changed: its app can start a request now, or no longer can. */
  | ({ type: 'load' } & Load)
  /**
   * The worker's Python process died (`cause`: the signal, or `exit N`) with these requests in
   * flight (`METHOD path`); the worker starts another in its place.
   */
  | { type: 'app-died'; cause: string; inFlight: string[] };

/** What a worker can take on, for the master's choice of who gets a new connection. */
export interface Load {
  /** Its app can start a request now: a free Python thread, an event loop that answers in time. */
  readonly free: boolean;
  /** Requests that wait for its app to start them. */
  readonly waiting: number;
  /**
   * Its app finished a request since it last had a free slot (always true while it has one): a
   * saturated app that is working through a queue, not one stalled on what it runs.
   */
  readonly progressing: boolean;
}

/** What an app host knows of its load; the worker's load reporter tells the master a Load from it. */
export interface AppLoad {
  readonly free: boolean;
  readonly waiting: number;
  /** Requests its app has let go of since it started: what shows it progressing. */
  readonly served: number;
  /** It can start no request for another reason than busy threads: its process is down, its frame reader does not answer, or a crash suspect runs alone. */
  readonly blocked: boolean;
}

const isStopMode = oneOf<StopMode>(['graceful', 'fast']);
const isRecycleReason = oneOf(recycleReasons);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

function load(field: FieldReader): Load {
  return { free: field('free', isBoolean, 'a boolean'), waiting: field('waiting', isCount, 'a count'), progressing: field('progressing', isBoolean, 'a boolean') };
}

export function parseMasterMessage(value: unknown): MasterMessage {
  try {
    return masterMessage(objectWith(value, 'type'));
  } catch (error) {
    throw error instanceof FieldError ? invalid(error.message) : error;
  }
}

export function parseWorkerMessage(value: unknown): WorkerMessage {
  try {
    return workerMessage(objectWith(value, 'type'));
  } catch (error) {
    throw error instanceof FieldError ? invalid(error.message) : error;
  }
}

function masterMessage(m: Fields): MasterMessage {
  const field = fieldsOf(m, String(m.type));
  switch (m.type) {
    case 'boot':
      return {
        type: 'boot',
        workerId: field('workerId', isCount, 'a worker id'),
        config: field('config', isRecord, 'an object'),
        tls: field('tls', isTlsBoot, 'TLS files and ticket keys, or null'),
      };
    case 'connection':
      return { type: 'connection', listener: field('listener', isCount, 'a listener index') };
    case 'stop':
      return {
        type: 'stop',
        mode: field('mode', isStopMode, '"graceful" or "fast"'),
        timeoutMs: field('timeoutMs', isCount, 'milliseconds'),
      };
    case 'ping':
      return { type: 'ping', seq: field('seq', isCount, 'a sequence number') };
    case 'reopen-logs':
      return { type: 'reopen-logs' };
    case 'workers':
      return { type: 'workers', count: field('count', isCount, 'a worker count') };
    default:
      throw new FieldError(`unknown master message type ${describe(m.type)}`);
  }
}

function workerMessage(m: Fields): WorkerMessage {
  const field = fieldsOf(m, String(m.type));
  switch (m.type) {
    case 'hello':
      return { type: 'hello' };
    case 'ready':
      return {
        type: 'ready',
        interface: field('interface', isString, 'an interface name'),
        loadError: field('loadError', isStringOrNull, 'an error message or null'),
      };
    case 'app-process':
      return { type: 'app-process', pid: field('pid', isCount, 'a process id') };
    case 'boot-failed':
      return {
        type: 'boot-failed',
        exitCode: field('exitCode', isExitCode, 'an exit code'),
        message: field('message', isString, 'a message'),
      };
    case 'draining':
      return { type: 'draining', inFlight: field('inFlight', isCount, 'a count') };
    case 'pong':
      return { type: 'pong', seq: field('seq', isCount, 'a sequence number') };
    case 'recycle':
      return {
        type: 'recycle',
        reason: field('reason', isRecycleReason, `one of ${recycleReasons.join(', ')}`),
        detail: field('detail', isString, 'a detail'),
      };
    case 'stats':
      return parseStats(m);
    case 'accepted':
      return { type: 'accepted', ...load(field) };
    case 'load':
      return { type: 'load', ...load(field) };
    case 'app-died':
      return { type: 'app-died', cause: field('cause', isString, 'a cause'), inFlight: field('inFlight', isStringList, 'a list of requests') };
    default:
      throw new FieldError(`unknown worker message type ${describe(m.type)}`);
  }
}

function isTlsBoot(v: unknown): v is TlsBoot | null {
  if (v === null) return true;
  if (!isRecord(v)) return false;
  const listeners = v.listeners;
  return isString(v.cert) && isString(v.key) && isStringOrNull(v.ca) && isString(v.ticketKeys) && Array.isArray(listeners) && listeners.every(isCount);
}

function invalid(reason: string): BicornError<'IPC_INVALID'> {
  return new BicornError('IPC_INVALID', { reason });
}

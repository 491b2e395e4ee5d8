// The typed IPC messages between the master and its workers, and the one parser for each
// direction. Anything that arrives over IPC goes through these before it is trusted.
import { BicornError } from './errors.js';
import { type ExitCode, isExitCode } from './exit-code.js';

export type StopMode = 'graceful' | 'fast';

/** Why a worker asks to be replaced by a fresh one. */
export type RecycleReason = 'max-requests' | 'max-lifetime' | 'max-rss' | 'request-timeout';
const recycleReasons: readonly RecycleReason[] = ['max-requests', 'max-lifetime', 'max-rss', 'request-timeout'];

/** What the master sends to a worker. */
export type MasterMessage =
  /** The worker's identity and the resolved config, as plain data; the answer to `hello`. */
  | { type: 'boot'; workerId: number; config: Readonly<Record<string, unknown>> }
  /** A connection accepted on listener `listener`; the socket travels as the message's handle. */
  | { type: 'connection'; listener: number }
  | { type: 'stop'; mode: StopMode; timeoutMs: number }
  /** A heartbeat: the worker answers `pong` with the same number from its event loop. */
  | { type: 'ping'; seq: number }
  /** Reopen log files (after logrotate moved them). */
  | { type: 'reopen-logs' };

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
  /** The worker cannot serve; it exits with `exitCode` right after sending this. */
  | { type: 'boot-failed'; exitCode: ExitCode; message: string }
  /** A stop is under way and these many requests are still running. */
  | { type: 'draining'; inFlight: number }
  | { type: 'pong'; seq: number }
  /** The worker should be replaced; it goes on serving until the master stops it. */
  | { type: 'recycle'; reason: RecycleReason; detail: string }
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
}

type Fields = Record<string, unknown>;

function objectWithType(value: unknown): Fields {
  if (typeof value !== 'object' || value === null || !('type' in value)) {
    throw invalid(`expected an object with a type, got ${describe(value)}`);
  }
  return value;
}

function field<T>(message: Fields, key: string, check: (v: unknown) => v is T, expected: string): T {
  const value = message[key];
  if (!check(value)) {
    throw invalid(`${String(message.type)}.${key}: expected ${expected}, got ${describe(value)}`);
  }
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStopMode = (v: unknown): v is StopMode => v === 'graceful' || v === 'fast';
const isRecycleReason = (v: unknown): v is RecycleReason => recycleReasons.includes(v as RecycleReason);
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

function load(m: Fields): Load {
  return { free: field(m, 'free', isBoolean, 'a boolean'), waiting: field(m, 'waiting', isCount, 'a count') };
}

export function parseMasterMessage(value: unknown): MasterMessage {
  const m = objectWithType(value);
  switch (m.type) {
    case 'boot':
      return {
        type: 'boot',
        workerId: field(m, 'workerId', isCount, 'a worker id'),
        config: field(m, 'config', isRecord, 'an object'),
      };
    case 'connection':
      return { type: 'connection', listener: field(m, 'listener', isCount, 'a listener index') };
    case 'stop':
      return {
        type: 'stop',
        mode: field(m, 'mode', isStopMode, '"graceful" or "fast"'),
        timeoutMs: field(m, 'timeoutMs', isCount, 'milliseconds'),
      };
    case 'ping':
      return { type: 'ping', seq: field(m, 'seq', isCount, 'a sequence number') };
    case 'reopen-logs':
      return { type: 'reopen-logs' };
    default:
      throw invalid(`unknown master message type ${describe(m.type)}`);
  }
}

export function parseWorkerMessage(value: unknown): WorkerMessage {
  const m = objectWithType(value);
  switch (m.type) {
    case 'hello':
      return { type: 'hello' };
    case 'ready':
      return {
        type: 'ready',
        interface: field(m, 'interface', isString, 'an interface name'),
        loadError: field(m, 'loadError', isStringOrNull, 'an error message or null'),
      };
    case 'boot-failed':
      return {
        type: 'boot-failed',
        exitCode: field(m, 'exitCode', isExitCode, 'an exit code'),
        message: field(m, 'message', isString, 'a message'),
      };
    case 'draining':
      return { type: 'draining', inFlight: field(m, 'inFlight', isCount, 'a count') };
    case 'pong':
      return { type: 'pong', seq: field(m, 'seq', isCount, 'a sequence number') };
    case 'recycle':
      return {
        type: 'recycle',
        reason: field(m, 'reason', isRecycleReason, `one of ${recycleReasons.join(', ')}`),
        detail: field(m, 'detail', isString, 'a detail'),
      };
    case 'accepted':
      return { type: 'accepted', ...load(m) };
    case 'load':
      return { type: 'load', ...load(m) };
    case 'app-died':
      return { type: 'app-died', cause: field(m, 'cause', isString, 'a cause'), inFlight: field(m, 'inFlight', isStringList, 'a list of requests') };
    default:
      throw invalid(`unknown worker message type ${describe(m.type)}`);
  }
}

function invalid(reason: string): BicornError<'IPC_INVALID'> {
  return new BicornError('IPC_INVALID', { reason });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}

// The control socket's protocol: one JSON object a line each way, a request from `bicorn
// status` (and reload, stop, scale, reopen-logs) and the master's answer, with the parser for
// each direction. Documented in the master package's README. Pure.
import { BicornError } from './errors.js';
import {
  FieldError,
  describe,
  fieldsOf,
  isBoolean,
  isCount,
  isCountOrNull,
  isInteger,
  isNonNegative,
  isRecord,
  isString,
  isStringOrNull,
  objectWith,
  oneOf,
  type Fields,
} from './fields.js';
import type { StopMode } from './ipc.js';

export const CONTROL_PROTOCOL_VERSION = 1;

export type ControlRequest =
  | { readonly command: 'status' }
  /** `wait`: answer once the reload has ended, else as soon as it has begun. */
  | { readonly command: 'reload'; readonly wait: boolean }
  /** `wait`: keep the connection until the master has exited. */
  | { readonly command: 'stop'; readonly mode: StopMode; readonly wait: boolean }
  /** A worker count to reach (`to`) or a change (`by`); `wait`: answer once it is reached. */
  | { readonly command: 'scale'; readonly to: number; readonly wait: boolean }
  | { readonly command: 'scale'; readonly by: number; readonly wait: boolean }
  | { readonly command: 'reopen-logs' };

export type ControlResponse = { readonly ok: true; readonly message: string; readonly status?: StatusReport } | { readonly ok: false; readonly error: string };

export interface StatusReport {
  readonly protocol: number;
  readonly version: string;
  readonly pid: number;
  readonly app: string;
  /** The arbiter's phase: starting, running, reloading, delaying (shutdown_delay) or stopping. */
  readonly phase: string;
  readonly uptimeSeconds: number;
  readonly generation: number;
  /** The worker count bicorn keeps. */
  readonly workers: number;
  readonly configFile: string | null;
  readonly listeners: readonly string[];
  readonly metrics: string | null;
  /** Workers replaced since the start: deaths and recycles. */
  readonly restarts: number;
  readonly rows: readonly WorkerRow[];
}

export interface WorkerRow {
  readonly id: number;
  readonly pid: number | null;
  readonly pythonPid: number | null;
  readonly generation: number;
  readonly state: string;
  readonly ageSeconds: number;
  /** From the worker's last report (null before its first, a second after it starts). */
  readonly served: number | null;
  readonly inFlight: number | null;
  /** The worker's resident bytes plus its Python process's. */
  readonly rssBytes: number | null;
  /** Why it was started: null for the first workers; "reload", "scale", or "<cause> (worker N)". */
  readonly restartCause: string | null;
  /** Its app can start a request now (a free Python thread, a loop that answers); null while it takes no connections. */
  readonly appFree: boolean | null;
  /** Requests that wait for its app to start them; null while it takes no connections. */
  readonly waiting: number | null;
  /** Its Python process died and was started again in place, this many times. */
  readonly pythonRestarts: number;
}

const stopModes = ['graceful', 'fast'] as const;

/** Reads a request line's object; throws CONTROL_INVALID naming what is wrong. */
export function parseControlRequest(value: unknown): ControlRequest {
  try {
    const m = objectWith(value, 'command');
    const f = fieldsOf(m, String(m.command));
    switch (m.command) {
      case 'status':
      case 'reopen-logs':
        return { command: m.command };
      case 'reload':
        return { command: 'reload', wait: f('wait', isBoolean, 'true or false') };
      case 'stop':
        return { command: 'stop', mode: f('mode', oneOf(stopModes), '"graceful" or "fast"'), wait: f('wait', isBoolean, 'true or false') };
      case 'scale': {
        const wait = f('wait', isBoolean, 'true or false');
        if ('to' in m) return { command: 'scale', to: f('to', isPositive, 'a worker count of 1 or more'), wait };
        return { command: 'scale', by: f('by', isNonZero, 'a change other than 0, such as 2 or -1'), wait };
      }
      default:
        throw new FieldError(`unknown command ${describe(m.command)}; the commands are status, reload, stop, scale and reopen-logs`);
    }
  } catch (error) {
    throw error instanceof FieldError ? new BicornError('CONTROL_INVALID', { reason: error.message }) : error;
  }
}

/** Reads an answer line's object (the client's side); throws CONTROL_INVALID. */
export function parseControlResponse(value: unknown): ControlResponse {
  try {
    const m = objectWith(value, 'ok');
    const f = fieldsOf(m, 'answer');
    if (f('ok', isBoolean, 'true or false')) {
      const message = f('message', isString, 'a message');
      return m.status === undefined ? { ok: true, message } : { ok: true, message, status: parseStatus(f('status', isRecord, 'an object')) };
    }
    return { ok: false, error: f('error', isString, 'an error message') };
  } catch (error) {
    throw error instanceof FieldError ? new BicornError('CONTROL_INVALID', { reason: error.message }) : error;
  }
}

function parseStatus(m: Fields): StatusReport {
  const f = fieldsOf(m, 'status');
  return {
    protocol: f('protocol', isCount, 'a version'),
    version: f('version', isString, 'a version'),
    pid: f('pid', isCount, 'a pid'),
    app: f('app', isString, 'an app'),
    phase: f('phase', isString, 'a phase'),
    uptimeSeconds: f('uptimeSeconds', isNonNegative, 'seconds'),
    generation: f('generation', isCount, 'a generation'),
    workers: f('workers', isCount, 'a count'),
    configFile: f('configFile', isStringOrNull, 'a path or null'),
    listeners: f('listeners', isStrings, 'addresses'),
    metrics: f('metrics', isStringOrNull, 'an address or null'),
    restarts: f('restarts', isCount, 'a count'),
    rows: f('rows', Array.isArray, 'an array').map((row: unknown) => parseRow(row)),
  };
}

function parseRow(value: unknown): WorkerRow {
  if (!isRecord(value)) throw new FieldError(`status.rows: expected objects, got ${describe(value)}`);
  const f = fieldsOf(value, 'status.rows');
  return {
    id: f('id', isCount, 'a worker id'),
    pid: f('pid', isCountOrNull, 'a pid or null'),
    pythonPid: f('pythonPid', isCountOrNull, 'a pid or null'),
    generation: f('generation', isCount, 'a generation'),
    state: f('state', isString, 'a state'),
    ageSeconds: f('ageSeconds', isNonNegative, 'seconds'),
    served: f('served', isCountOrNull, 'a count or null'),
    inFlight: f('inFlight', isCountOrNull, 'a count or null'),
    rssBytes: f('rssBytes', isCountOrNull, 'bytes or null'),
    restartCause: f('restartCause', isStringOrNull, 'a cause or null'),
    appFree: f('appFree', isBooleanOrNull, 'true, false or null'),
    waiting: f('waiting', isCountOrNull, 'a count or null'),
    pythonRestarts: f('pythonRestarts', isCount, 'a count'),
  };
}

const isPositive = (v: unknown): v is number => isInteger(v) && v >= 1;
const isNonZero = (v: unknown): v is number => isInteger(v) && v !== 0;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isBooleanOrNull = (v: unknown): v is boolean | null => v === null || isBoolean(v);

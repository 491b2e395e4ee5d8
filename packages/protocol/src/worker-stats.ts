// What a worker reports to the master every second, for `bicorn status` and the metrics: its
// state, and with --metrics-bind what it counted since the last report. The master adds the
// counts to its own registry, so a worker that dies loses at most one report. Pure.
import { FieldError, countsOf, fieldsOf, isCount, isCountOrNull, isNonNegative, isNonNegativeOrNull, isRecord, oneOf, type Fields } from './fields.js';

/** Request methods as labels: the usual ones, every other one as "other", so labels stay few. */
export const metricMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other'] as const;
export const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** The request duration histogram's upper bounds, in seconds (prom-client's default buckets). */
export const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/**
 * Why a request or a message was refused for a limit: the front's, then the Python host's
 * (queue_timeout: the app did not start it in time; spool_budget: an upload found no room).
 */
export const limitKinds = ['request-line', 'request-headers', 'request-body', 'header-timeout', 'concurrency', 'ws-message-size', 'queue-timeout', 'spool-budget'] as const;
export type LimitKind = (typeof limitKinds)[number];
export const appInterfaces = ['wsgi', 'asgi', 'fetch', 'node', 'none'] as const;
export type AppInterface = (typeof appInterfaces)[number];

/** Counted since the previous report. */
export interface RequestCounts {
  /** Requests ended, at index `method * statusClasses.length + statusClass`. */
  readonly requests: readonly number[];
  /** How many took at most each of durationBuckets (not cumulative), then the slower ones. */
  readonly durations: readonly number[];
  readonly durationSeconds: number;
  /** Bytes read from and written to the clients' connections, heads included. */
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** Requests ended by request_timeout. */
  readonly timeouts: number;
  /** Responses served from a --static directory (counted in `requests` too). */
  readonly staticResponses: number;
  /** At the index of each of limitKinds. */
  readonly rejections: readonly number[];
}

export interface WorkerStats {
  readonly type: 'stats';
  readonly interface: AppInterface;
  /** Requests ended since the worker started, and under way (WebSockets included). */
  readonly served: number;
  readonly inFlight: number;
  readonly webSockets: number;
  /** Resident bytes of the worker process. */
  readonly rss: number;
  /** The Python process, for a Python app; its CPU seconds since the previous report. */
  readonly pythonPid: number | null;
  readonly pythonRss: number | null;
  readonly pythonCpuSeconds: number | null;
  /** The longest the worker's event loop was held up since the previous report (with metrics). */
  readonly loopLagSeconds: number | null;
  /** With --metrics-bind only. */
  readonly counts: RequestCounts | null;
}

const requestsLength = metricMethods.length * statusClasses.length;

/** Reads a `stats` message (already known to have that type); throws FieldError. */
export function parseStats(m: Fields): WorkerStats {
  const f = fieldsOf(m, 'stats');
  const counts = m.counts;
  return {
    type: 'stats',
    interface: f('interface', oneOf(appInterfaces), `one of ${appInterfaces.join(', ')}`),
    served: f('served', isCount, 'a count'),
    inFlight: f('inFlight', isCount, 'a count'),
    webSockets: f('webSockets', isCount, 'a count'),
    rss: f('rss', isCount, 'bytes'),
    pythonPid: f('pythonPid', isCountOrNull, 'a pid or null'),
    pythonRss: f('pythonRss', isCountOrNull, 'bytes or null'),
    pythonCpuSeconds: f('pythonCpuSeconds', isNonNegativeOrNull, 'seconds or null'),
    loopLagSeconds: f('loopLagSeconds', isNonNegativeOrNull, 'seconds or null'),
    counts: counts === null ? null : parseCounts(counts),
  };
}

function parseCounts(value: unknown): RequestCounts {
  if (!isRecord(value)) throw new FieldError('stats.counts: expected an object or null');
  const f = fieldsOf(value, 'stats.counts');
  return {
    requests: f('requests', countsOf(requestsLength), `${String(requestsLength)} counts`),
    durations: f('durations', countsOf(durationBuckets.length + 1), `${String(durationBuckets.length + 1)} counts`),
    durationSeconds: f('durationSeconds', isNonNegative, 'seconds'),
    requestBytes: f('requestBytes', isCount, 'bytes'),
    responseBytes: f('responseBytes', isCount, 'bytes'),
    timeouts: f('timeouts', isCount, 'a count'),
    staticResponses: f('staticResponses', isCount, 'a count'),
    rejections: f('rejections', countsOf(limitKinds.length), `${String(limitKinds.length)} counts`),
  };
}

// Counting what the worker serves: requests served, always (for `bicorn status`); with
// --metrics-bind also the counts by method and status class, durations, bytes, request timeouts,
// limit rejections and static responses, which each report to the master takes and resets; with
// --statsd-host, gunicorn's per-request StatsD metrics, sent from here. The HTTP server calls
// requestEnded once per request, where it already writes the access line. Runs in a worker.
import { durationBuckets, limitKinds, metricMethods, statusClasses, type LimitKind, type RequestCounts } from '@bicorn/protocol';
import type { StatsdClient } from '@bicorn/runtime';

const methodIndex: ReadonlyMap<string, number> = new Map(metricMethods.map((method, index) => [method, index]));
const OTHER_METHOD = metricMethods.length - 1;
const CLASSES = statusClasses.length;

/** RequestCounts while they are being counted. */
interface Counting {
  requests: number[];
  durations: number[];
  durationSeconds: number;
  requestBytes: number;
  responseBytes: number;
  timeouts: number;
  staticResponses: number;
  rejections: number[];
}

export class RequestMetrics {
  /** Whether requests are counted in detail (--metrics-bind), beyond `served`. */
  readonly detailed: boolean;
  /** Whether requestEnded wants each request's duration and bytes. */
  readonly timed: boolean;
  readonly #statsd: StatsdClient | undefined;
  #served = 0;
  #counts: Counting;

  constructor(detailed: boolean, statsd?: StatsdClient) {
    this.detailed = detailed;
    this.#statsd = statsd;
    this.timed = detailed || statsd !== undefined;
    this.#counts = emptyCounts();
  }

  get served(): number {
    return this.#served;
  }

  /** `fromStatic`: served from a --static directory rather than by the app. */
  requestEnded(method: string | undefined, status: number, seconds: number, requestBytes: number, responseBytes: number, fromStatic: boolean): void {
    this.#served++;
    const statsd = this.#statsd;
    if (statsd !== undefined) {
      // gunicorn's names and order (Statsd.access).
      statsd.timing('gunicorn.request.duration', Math.round(seconds * 1e6) / 1000);
      statsd.increment('gunicorn.requests');
      statsd.increment(`gunicorn.request.status.${String(status)}`);
    }
    if (!this.detailed) return;
    const counts = this.#counts;
    const row = methodIndex.get(method ?? '') ?? OTHER_METHOD;
    const statusClass = Math.min(Math.max(Math.floor(status / 100) - 1, 0), CLASSES - 1);
    const at = row * CLASSES + statusClass;
    counts.requests[at] = (counts.requests[at] ?? 0) + 1;
    let bucket = 0;
    while (bucket < durationBuckets.length && seconds > (durationBuckets[bucket] ?? Infinity)) bucket++;
    counts.durations[bucket] = (counts.durations[bucket] ?? 0) + 1;
    counts.durationSeconds += seconds;
    counts.requestBytes += requestBytes;
    counts.responseBytes += responseBytes;
    if (fromStatic) counts.staticResponses++;
  }

  requestTimedOut(): void {
    this.#counts.timeouts++;
  }

  limitRejected(kind: LimitKind): void {
    const at = limitKinds.indexOf(kind);
    this.#counts.rejections[at] = (this.#counts.rejections[at] ?? 0) + 1;
  }

  /** What was counted since the last call (null unless detailed), and a fresh start. */
  take(): RequestCounts | null {
    if (!this.detailed) return null;
    const counts = this.#counts;
    this.#counts = emptyCounts();
    return counts;
  }
}

function emptyCounts(): Counting {
  return {
    requests: new Array<number>(metricMethods.length * CLASSES).fill(0),
    durations: new Array<number>(durationBuckets.length + 1).fill(0),
    durationSeconds: 0,
    requestBytes: 0,
    responseBytes: 0,
    timeouts: 0,
    staticResponses: 0,
    rejections: new Array<number>(limitKinds.length).fill(0),
  };
}

// Counting what the worker serves: requests served, always (for `bicorn status`); with
// --metrics-bind also the counts by method and status class, durations, bytes, request timeouts
// limit rejections and static responses, which each report to the master takes and resets. The HTTP server calls
// requestEnded once per request, where it already writes the access line. Runs in a worker.
import { durationBuckets, limitKinds, metricMethods, statusClasses, type LimitKind, type RequestCounts } from '@bicorn/protocol';

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
  #served = 0;
  #counts: Counting;

  constructor(detailed: boolean) {
    this.detailed = detailed;
    this.#counts = emptyCounts();
  }

  get served(): number {
    return this.#served;
  }

  /** `fromStatic`: served from a --static directory rather than by the app. */
  requestEnded(method: string | undefined, status: number, seconds: number, requestBytes: number, responseBytes: number, fromStatic: boolean): void {
    this.#served++;
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

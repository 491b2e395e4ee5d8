// The master's Prometheus metrics (--metrics-bind), one registry over all workers (prom-client).
// Workers send what they counted each second and the master adds it up, so totals never go back
// and a worker that dies loses at most its last second. Worker labels are slots (1..N, the
// lowest free one taken by each new worker), not ids that grow with every restart; every label
// is bounded (no paths). Runs in the master.
import { durationBuckets, limitKinds, metricMethods, statusClasses, type WorkerStats } from '@bicorn/protocol';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ArbiterEvent, ArbiterSnapshot } from './arbiter.js';
import { serveEndpoints, type EndpointServer } from './endpoints.js';
import { MergedHistogram } from './merged-histogram.js';
import type { RestartCause, WorkerState } from './worker-table.js';

const restartCauses: readonly RestartCause[] = ['exited', 'signaled', 'killed', 'hung', 'boot-failed', 'max-requests', 'max-lifetime', 'max-rss', 'request-timeout'];
const workerStates: readonly WorkerState['kind'][] = ['booting', 'ready', 'retiring', 'stopping', 'hung', 'boot-failed'];

export class MasterMetrics {
  readonly registry = new Registry();
  readonly #snapshot: () => ArbiterSnapshot;
  /** Worker id → slot. */
  readonly #slots = new Map<number, number>();
  readonly #requests: Counter<'method' | 'status' | 'interface'>;
  readonly #durations: MergedHistogram;
  readonly #requestBytes: Counter;
  readonly #responseBytes: Counter;
  readonly #timeouts: Counter;
  readonly #staticResponses: Counter;
  readonly #rejections: Counter<'kind'>;
  readonly #restarts: Counter<'cause'>;
  readonly #appDeaths: Counter<'cause'>;
  readonly #reloads: Counter<'outcome'>;
  readonly #inFlight: Gauge<'worker'>;
  readonly #webSockets: Gauge<'worker'>;
  readonly #workerRss: Gauge<'worker'>;
  readonly #loopLag: Gauge<'worker'>;
  readonly #pythonRss: Gauge<'worker'>;
  readonly #pythonCpu: Counter<'worker'>;
  /** The gauges of one worker, dropped with it. */
  readonly #perWorker: readonly Gauge<'worker'>[];

  constructor(snapshot: () => ArbiterSnapshot) {
    this.#snapshot = snapshot;
    const registers = [this.registry];
    this.#requests = new Counter({ name: 'bicorn_http_requests_total', help: 'HTTP requests ended, by method, status class and app interface.', labelNames: ['method', 'status', 'interface'], registers });
    this.#durations = new MergedHistogram('bicorn_http_request_duration_seconds', 'HTTP request durations, from the request head to the end of the response.', durationBuckets);
    this.registry.registerMetric(this.#durations);
    this.#requestBytes = new Counter({ name: 'bicorn_http_request_bytes_total', help: 'Bytes read from clients for HTTP requests, heads included.', registers });
    this.#responseBytes = new Counter({ name: 'bicorn_http_response_bytes_total', help: 'Bytes written to clients for HTTP responses, heads included.', registers });
    this.#timeouts = new Counter({ name: 'bicorn_request_timeouts_total', help: 'Requests ended by request_timeout (504, or a cut connection).', registers });
    this.#staticResponses = new Counter({ name: 'bicorn_static_responses_total', help: 'Responses served from --static directories (also counted in bicorn_http_requests_total).', registers });
    this.#rejections = new Counter({ name: 'bicorn_limit_rejections_total', help: 'Requests and messages refused for a limit, by kind.', labelNames: ['kind'], registers });
    this.#restarts = new Counter({ name: 'bicorn_worker_restarts_total', help: 'Workers replaced, by cause: how they died, or why they were recycled.', labelNames: ['cause'], registers });
    this.#appDeaths = new Counter({
      name: 'bicorn_app_deaths_total',
      help: 'Python app processes that died while their worker served (each restarted in place), by cause: the signal, or exit N.',
      labelNames: ['cause'],
      registers,
    });
    this.#reloads = new Counter({ name: 'bicorn_reloads_total', help: 'Reloads, by outcome: ok (the new generation serves) or failed (the old one still does).', labelNames: ['outcome'], registers });
    this.#inFlight = new Gauge({ name: 'bicorn_http_requests_in_flight', help: 'HTTP requests under way, and WebSockets open, by worker slot.', labelNames: ['worker'], registers });
    this.#webSockets = new Gauge({ name: 'bicorn_websockets_open', help: 'WebSockets open, by worker slot.', labelNames: ['worker'], registers });
    this.#workerRss = new Gauge({ name: 'bicorn_worker_resident_memory_bytes', help: 'Resident memory of each worker process, by worker slot.', labelNames: ['worker'], registers });
    this.#loopLag = new Gauge({ name: 'bicorn_worker_event_loop_lag_seconds', help: "The longest each worker's event loop was held up over the last second, by worker slot.", labelNames: ['worker'], registers });
    this.#pythonRss = new Gauge({ name: 'bicorn_python_resident_memory_bytes', help: 'Resident memory of the Python process of each worker, by worker slot.', labelNames: ['worker'], registers });
    this.#pythonCpu = new Counter({ name: 'bicorn_python_cpu_seconds_total', help: 'CPU time (user and system) of the Python processes, by worker slot.', labelNames: ['worker'], registers });
    this.#perWorker = [this.#inFlight, this.#webSockets, this.#workerRss, this.#loopLag, this.#pythonRss];
    this.registry.registerMetric(
      new Gauge({
        name: 'bicorn_workers',
        help: 'Worker processes, by state (booting, ready, retiring, stopping, hung, boot-failed).',
        labelNames: ['state'],
        registers: [],
        // Read from the arbiter's table at each scrape.
        collect() {
          const counts = new Map<string, number>(workerStates.map((state) => [state, 0]));
          for (const worker of snapshot().workers) counts.set(worker.state, (counts.get(worker.state) ?? 0) + 1);
          for (const [state, count] of counts) this.set({ state }, count);
        },
      }),
    );
    // Series that exist from the start, so that rate() and alerts see them at 0.
    for (const cause of restartCauses) this.#restarts.inc({ cause }, 0);
    for (const outcome of ['ok', 'failed']) this.#reloads.inc({ outcome }, 0);
    for (const kind of limitKinds) this.#rejections.inc({ kind }, 0);
    collectDefaultMetrics({ register: this.registry, prefix: 'bicorn_master_' });
  }

  onStats(workerId: number, stats: WorkerStats): void {
    const slot = this.#slotOf(workerId);
    if (slot === undefined) return;
    const worker = String(slot);
    this.#inFlight.set({ worker }, stats.inFlight);
    this.#webSockets.set({ worker }, stats.webSockets);
    this.#workerRss.set({ worker }, stats.rss);
    if (stats.loopLagSeconds !== null) this.#loopLag.set({ worker }, stats.loopLagSeconds);
    if (stats.pythonRss !== null) this.#pythonRss.set({ worker }, stats.pythonRss);
    if (stats.pythonCpuSeconds !== null) this.#pythonCpu.inc({ worker }, stats.pythonCpuSeconds);
    const counts = stats.counts;
    if (counts === null) return;
    for (const [at, count] of counts.requests.entries()) {
      if (count === 0) continue;
      const method = metricMethods[Math.floor(at / statusClasses.length)] ?? 'other';
      const status = statusClasses[at % statusClasses.length] ?? '5xx';
      this.#requests.inc({ method, status, interface: stats.interface }, count);
    }
    this.#durations.add(counts.durations, counts.durationSeconds);
    this.#requestBytes.inc(counts.requestBytes);
    this.#responseBytes.inc(counts.responseBytes);
    this.#timeouts.inc(counts.timeouts);
    this.#staticResponses.inc(counts.staticResponses);
    for (const [at, count] of counts.rejections.entries()) if (count > 0) this.#rejections.inc({ kind: limitKinds[at] ?? 'other' }, count);
  }

  onEvent(event: ArbiterEvent): void {
    switch (event.type) {
      case 'restart':
        this.#restarts.inc({ cause: event.cause });
        return;
      case 'app-died':
        this.#appDeaths.inc({ cause: event.cause });
        return;
      case 'reloaded':
        this.#reloads.inc({ outcome: event.ok ? 'ok' : 'failed' });
        return;
      case 'worker-exited':
        this.#freeSlot(event.workerId);
        return;
      default:
        return;
    }
  }

  /** The worker's slot; a new worker takes the lowest free one. Undefined for a worker gone already (a report that came after its exit). */
  #slotOf(workerId: number): number | undefined {
    const known = this.#slots.get(workerId);
    if (known !== undefined) return known;
    if (!this.#snapshot().workers.some((worker) => worker.id === workerId)) return undefined;
    const taken = new Set(this.#slots.values());
    let slot = 1;
    while (taken.has(slot)) slot++;
    this.#slots.set(workerId, slot);
    return slot;
  }

  #freeSlot(workerId: number): void {
    const slot = this.#slots.get(workerId);
    if (slot === undefined) return;
    this.#slots.delete(workerId);
    // Its gauges go with it; its counters stay, for the next worker in the slot to add to.
    for (const gauge of this.#perWorker) gauge.remove({ worker: String(slot) });
  }
}

/** Serves the registry at /metrics on `bind` (--metrics-bind). */
export function serveMetrics(bind: string, metrics: MasterMetrics): Promise<EndpointServer> {
  return serveEndpoints(bind, async (path) =>
    path === '/metrics' ? { status: 200, contentType: metrics.registry.contentType, body: await metrics.registry.metrics() } : { status: 404, contentType: 'text/plain', body: 'not found: try /metrics\n' },
  );
}

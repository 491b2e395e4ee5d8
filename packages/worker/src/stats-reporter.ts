// The worker's report to the master, every second (a `stats` message): what `bicorn status`
// shows of it, its Python process's memory and CPU, and with --metrics-bind the counts since the
// last report and the longest its event loop was held up. Runs in a worker.
import type { AppInterface, WorkerStats } from '@bicorn/protocol';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { RequestMetrics } from './metrics.js';
import { cpuSeconds, residentBytes } from './proc-stats.js';

/** "At least every second": what a worker that dies takes with it. */
const REPORT_EVERY_MS = 1_000;
/** How often the event loop delay is sampled; each sample's delay includes this interval. */
const LOOP_SAMPLE_MS = 20;

export interface ReporterOptions {
  readonly metrics: RequestMetrics;
  readonly server: { readonly inFlight: number; readonly webSockets: number };
  readonly appInterface: AppInterface;
  /** The app's Python process now (another after a crash); undefined for a JavaScript app. */
  readonly pythonPid: () => number | undefined;
  readonly send: (stats: WorkerStats) => void;
}

export class StatsReporter {
  readonly #options: ReporterOptions;
  readonly #timer: NodeJS.Timeout;
  readonly #loopDelay: IntervalHistogram | undefined;
  /** The Python process's CPU seconds at the last report: from 0, so that its loading counts. */
  #pythonCpu = 0;
  /** The Python process #pythonCpu is of: a new one after a crash counts from 0 again. */
  #cpuOf: number | undefined;
  #closed = false;

  constructor(options: ReporterOptions) {
    this.#options = options;
    if (options.metrics.detailed) {
      this.#loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
      this.#loopDelay.enable();
    }
    // Never what keeps the worker alive.
    this.#timer = setInterval(() => void this.#report(), REPORT_EVERY_MS).unref();
    void this.#report();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#loopDelay?.disable();
  }

  async #report(): Promise<void> {
    const { metrics, server } = this.#options;
    const pythonPid = this.#options.pythonPid();
    const [pythonRss, pythonCpu] = pythonPid === undefined ? [undefined, undefined] : await Promise.all([residentBytes(pythonPid), cpuSeconds(pythonPid)]);
    if (this.#closed) return;
    if (pythonPid !== this.#cpuOf) {
      this.#cpuOf = pythonPid;
      this.#pythonCpu = 0;
    }
    const cpuSinceLast = pythonCpu === undefined ? null : Math.max(0, pythonCpu - this.#pythonCpu);
    if (pythonCpu !== undefined) this.#pythonCpu = pythonCpu;
    const loopDelay = this.#loopDelay;
    const loopLagSeconds = loopDelay === undefined || loopDelay.count === 0 ? null : Math.max(0, loopDelay.max / 1e6 - LOOP_SAMPLE_MS) / 1000;
    loopDelay?.reset();
    this.#options.send({
      type: 'stats',
      interface: this.#options.appInterface,
      served: metrics.served,
      inFlight: server.inFlight,
      webSockets: server.webSockets,
      rss: process.memoryUsage.rss(),
      pythonPid: pythonPid ?? null,
      pythonRss: pythonRss ?? null,
      pythonCpuSeconds: cpuSinceLast,
      loopLagSeconds,
      counts: metrics.take(),
    });
  }
}

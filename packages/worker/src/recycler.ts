// Recycling: a worker asks the master for a replacement once it has served max_requests
// (plus jitter), run max_worker_lifetime, or its app process grown past max_rss. It asks once
// and serves on until the master stops it. Runs in a worker.
import type { RecycleReason } from '@bicorn/protocol';
import type { Logger } from '@bicorn/runtime';
import { residentBytes } from './proc-stats.js';

export interface RecyclerOptions {
  readonly maxRequests: number;
  readonly maxRequestsJitter: number;
  readonly maxRssMiB: number;
  readonly maxLifetimeS: number;
  /** The process whose memory counts: the Python process, or this worker for a JS app. */
  readonly appPid: () => number | undefined;
  readonly recycle: (reason: RecycleReason, detail: string) => void;
  readonly log: Logger;
}

const RSS_CHECK_MS = 2_000;

export class Recycler {
  readonly #options: RecyclerOptions;
  readonly #requestLimit: number;
  #requests = 0;
  #asked = false;
  #lifetimeTimer: NodeJS.Timeout | undefined;
  #rssTimer: NodeJS.Timeout | undefined;

  constructor(options: RecyclerOptions) {
    this.#options = options;
    // Jitter spreads the restarts of workers that started together (no need for node:crypto's
    // randomness, which would load it in every worker).
    this.#requestLimit = options.maxRequests > 0 ? options.maxRequests + Math.floor(Math.random() * (options.maxRequestsJitter + 1)) : 0;
    if (options.maxLifetimeS > 0) {
      this.#lifetimeTimer = setTimeout(() => {
        this.#ask('max-lifetime', `ran ${String(options.maxLifetimeS)} s`);
      }, options.maxLifetimeS * 1000);
      this.#lifetimeTimer.unref();
    }
    if (options.maxRssMiB > 0) {
      this.#rssTimer = setInterval(() => void this.#checkRss(), RSS_CHECK_MS);
      this.#rssTimer.unref();
    }
  }

  onRequest(): void {
    this.#requests++;
    if (this.#requestLimit > 0 && this.#requests >= this.#requestLimit) this.#ask('max-requests', `served ${String(this.#requests)} requests`);
  }

  /** A request the app did not answer in time: its process is stuck, and is replaced. */
  onAppStuck(detail: string): void {
    this.#ask('request-timeout', detail);
  }

  close(): void {
    clearTimeout(this.#lifetimeTimer);
    clearInterval(this.#rssTimer);
  }

  async #checkRss(): Promise<void> {
    const pid = this.#options.appPid();
    if (pid === undefined) return;
    const rss = await residentBytes(pid);
    if (rss === undefined) {
      this.#options.log.warn({ pid }, 'max_rss: cannot read the resident memory of the app process (Linux /proc only); not checking it');
      clearInterval(this.#rssTimer);
      return;
    }
    const rssMiB = rss / (1024 * 1024);
    if (rssMiB > this.#options.maxRssMiB) this.#ask('max-rss', `the app process has ${rssMiB.toFixed(0)} MiB resident, more than max_rss ${String(this.#options.maxRssMiB)} MiB`);
  }

  #ask(reason: RecycleReason, detail: string): void {
    if (this.#asked) return;
    this.#asked = true;
    this.close();
    this.#options.log.info({ reason, detail }, 'asking the master for a replacement');
    this.#options.recycle(reason, detail);
  }
}

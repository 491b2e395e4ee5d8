import { durationBuckets, limitKinds, metricMethods, statusClasses, type RequestCounts, type WorkerStats } from '@bicorn/protocol';
import { describe, expect, it } from 'vitest';
import type { ArbiterSnapshot, WorkerSnapshot } from './arbiter.js';
import { MasterMetrics } from './metrics.js';

function counts(requests: Record<string, number>, durations: number[] = []): RequestCounts {
  const byIndex = new Array<number>(metricMethods.length * statusClasses.length).fill(0);
  for (const [key, count] of Object.entries(requests)) {
    const [method, status] = key.split(' ');
    byIndex[metricMethods.indexOf(method as (typeof metricMethods)[number]) * statusClasses.length + statusClasses.indexOf(status as (typeof statusClasses)[number])] = count;
  }
  const buckets = new Array<number>(durationBuckets.length + 1).fill(0);
  for (const [i, n] of durations.entries()) buckets[i] = n;
  return { requests: byIndex, durations: buckets, durationSeconds: 0.5, requestBytes: 300, responseBytes: 4000, timeouts: 1, staticResponses: 2, rejections: new Array<number>(limitKinds.length).fill(0) };
}

function stats(served: number, requestCounts: RequestCounts | null): WorkerStats {
  return { type: 'stats', interface: 'wsgi', served, inFlight: 2, webSockets: 0, rss: 1000, pythonPid: 9, pythonRss: 2000, pythonCpuSeconds: 0.25, loopLagSeconds: 0.001, counts: requestCounts };
}

const worker = (id: number, state: WorkerSnapshot['state'] = 'ready'): WorkerSnapshot => ({ id, pid: 100 + id, generation: 1, state, forkedAt: 0, startedFor: { kind: 'start' }, load: undefined, appDeaths: 0 });

function setup(workers: WorkerSnapshot[]) {
  const snapshot: ArbiterSnapshot = { phase: 'running', generation: 1, target: workers.length, workers, deaths: [] };
  const metrics = new MasterMetrics(() => snapshot);
  const scrape = async () => metrics.registry.metrics();
  return { metrics, scrape, snapshot };
}

describe('the master metrics', () => {
  it('add up what the workers counted, labelled by method, status class and interface, never by path', async () => {
    const { metrics, scrape } = setup([worker(1), worker(2)]);
    metrics.onStats(1, stats(3, counts({ 'GET 2xx': 2, 'POST 5xx': 1 }, [1, 1, 0, 1])));
    metrics.onStats(2, stats(1, counts({ 'GET 2xx': 1 }, [1])));
    metrics.onStats(1, stats(4, counts({ 'GET 2xx': 1 }, [0, 1])));
    const text = await scrape();
    expect(text).toContain('bicorn_http_requests_total{method="GET",status="2xx",interface="wsgi"} 4\n');
    expect(text).toContain('bicorn_http_requests_total{method="POST",status="5xx",interface="wsgi"} 1\n');
    expect(text).toContain('bicorn_http_request_duration_seconds_bucket{le="0.005"} 2\n');
    expect(text).toContain('bicorn_http_request_duration_seconds_bucket{le="0.01"} 4\n');
    expect(text).toContain('bicorn_http_request_duration_seconds_bucket{le="0.05"} 5\n');
    expect(text).toContain('bicorn_http_request_duration_seconds_bucket{le="+Inf"} 5\n');
    expect(text).toContain('bicorn_http_request_duration_seconds_sum 1.5\n');
    expect(text).toContain('bicorn_http_request_duration_seconds_count 5\n');
    expect(text).toContain('bicorn_http_response_bytes_total 12000\n');
    expect(text).toContain('bicorn_request_timeouts_total 3\n');
    expect(text).toContain('bicorn_static_responses_total 6\n');
    expect(text).toContain('bicorn_python_cpu_seconds_total{worker="1"} 0.5\n');
    for (const line of text.split('\n').filter((l) => l.startsWith('bicorn_') && !l.startsWith('bicorn_master_'))) expect(line).not.toMatch(/path=|\/|id=/);
  });

  it("label workers by slot: a new worker takes the lowest free one; a gone worker's gauges go with it, its counts stay for the next one in its slot", async () => {
    const { metrics, scrape, snapshot } = setup([worker(7), worker(8)]);
    metrics.onStats(7, stats(1, null));
    metrics.onStats(8, stats(1, null));
    // The arbiter forgets a worker before it says the worker exited.
    (snapshot.workers as WorkerSnapshot[]).splice(0, 1, worker(9));
    metrics.onEvent({ type: 'worker-exited', workerId: 7 });
    // A report that arrives after its worker's exit opens no slot.
    metrics.onStats(7, stats(1, null));
    metrics.onStats(9, stats(1, null));
    const text = await scrape();
    expect(text).toContain('bicorn_http_requests_in_flight{worker="1"} 2\n');
    expect(text).toContain('bicorn_http_requests_in_flight{worker="2"} 2\n');
    expect(text.split('\n').filter((l) => l.includes('worker="3"'))).toEqual([]);
    expect(text).toContain('bicorn_python_cpu_seconds_total{worker="1"} 0.5\n');
  });

  it('count restarts by cause and reloads by outcome, and workers by state from the arbiter', async () => {
    const { metrics, scrape } = setup([worker(1), worker(2, 'booting'), worker(3, 'stopping')]);
    metrics.onEvent({ type: 'restart', workerId: 1, cause: 'killed' });
    metrics.onEvent({ type: 'restart', workerId: 2, cause: 'max-requests' });
    metrics.onEvent({ type: 'reloaded', ok: false, generation: 1, workers: 3 });
    const text = await scrape();
    expect(text).toContain('bicorn_worker_restarts_total{cause="killed"} 1\n');
    expect(text).toContain('bicorn_worker_restarts_total{cause="max-requests"} 1\n');
    expect(text).toContain('bicorn_worker_restarts_total{cause="exited"} 0\n');
    expect(text).toContain('bicorn_reloads_total{outcome="failed"} 1\n');
    expect(text).toContain('bicorn_reloads_total{outcome="ok"} 0\n');
    expect(text).toContain('bicorn_workers{state="ready"} 1\n');
    expect(text).toContain('bicorn_workers{state="booting"} 1\n');
    expect(text).toContain('bicorn_workers{state="hung"} 0\n');
    expect(text).toMatch(/^bicorn_master_process_cpu_user_seconds_total \d/m);
  });

  it("count the workers' Python processes that died by cause, apart from worker restarts", async () => {
    const { metrics, scrape } = setup([worker(1)]);
    metrics.onEvent({ type: 'app-died', workerId: 1, cause: 'SIGSEGV' });
    metrics.onEvent({ type: 'app-died', workerId: 1, cause: 'SIGSEGV' });
    metrics.onEvent({ type: 'app-died', workerId: 1, cause: 'exit 13' });
    const text = await scrape();
    expect(text).toContain('bicorn_app_deaths_total{cause="SIGSEGV"} 2\n');
    expect(text).toContain('bicorn_app_deaths_total{cause="exit 13"} 1\n');
    expect(text).not.toMatch(/^bicorn_worker_restarts_total\{[^}]*\} [1-9]/m);
  });

  it('count the refusals of the queue timeout and the spool budget among the limit rejections, by their own kind', async () => {
    const { metrics, scrape } = setup([worker(1)]);
    const rejections = new Array<number>(limitKinds.length).fill(0);
    rejections[limitKinds.indexOf('queue-timeout')] = 3;
    rejections[limitKinds.indexOf('concurrency')] = 1;
    metrics.onStats(1, stats(4, { ...counts({}, []), rejections }));
    const text = await scrape();
    expect(text).toContain('bicorn_limit_rejections_total{kind="queue-timeout"} 3\n');
    expect(text).toContain('bicorn_limit_rejections_total{kind="concurrency"} 1\n');
    expect(text).toContain('bicorn_limit_rejections_total{kind="spool-budget"} 0\n');
  });
});

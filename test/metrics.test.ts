// --metrics-bind end to end: the master's /metrics over all workers, scraped while they serve,
// die, reload and time out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { hasPython, servePython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';
import { openWs, wsUrl } from './support/websocket.js';

async function serveWithMetrics(args: readonly string[]): Promise<{ bicorn: BicornProcess; url: string; metrics: string }> {
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', ...args]);
  const url = await bicorn.listening();
  const line = await bicorn.waitForLog('the metrics address', (l) => l.msg === 'metrics listening');
  return { bicorn, url, metrics: `http://${String(line.address)}/metrics` };
}

/** The value of one series (its name and labels as written), or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until `series` has reached `least`; workers report once a second. */
async function scrapeUntil(metrics: string, series: string, least: number): Promise<string> {
  return pollUntil(`${series} >= ${String(least)}`, async () => {
    const text = (await get(metrics)).body;
    return (value(text, series) ?? 0) >= least ? text : undefined;
  });
}

function send(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'a body' : undefined);
  });
}

describe('/metrics', () => {
  it('adds up every worker: requests by method, status class and interface, durations and bytes, never a path', async () => {
    const { bicorn, url, metrics } = await serveWithMetrics(['-w', '2', fixture('apps/fetch.mjs')]);
    for (const path of ['/a', '/b?x=1', '/c/d', '/e']) expect(await send(`${url}${path}`, 'GET')).toBe(200);
    expect(await send(`${url}/upload`, 'POST')).toBe(200);
    expect(await send(`${url}/x`, 'PROPFIND')).toBe(200);
    const text = await scrapeUntil(metrics, 'bicorn_http_request_duration_seconds_count', 6);
    expect(value(text, 'bicorn_http_requests_total{method="GET",status="2xx",interface="fetch"}')).toBe(4);
    expect(value(text, 'bicorn_http_requests_total{method="POST",status="2xx",interface="fetch"}')).toBe(1);
    expect(value(text, 'bicorn_http_requests_total{method="other",status="2xx",interface="fetch"}')).toBe(1);
    expect(value(text, 'bicorn_http_request_duration_seconds_bucket{le="+Inf"}')).toBe(6);
    expect(value(text, 'bicorn_http_request_bytes_total')).toBeGreaterThan(6 * 30);
    expect(value(text, 'bicorn_http_response_bytes_total')).toBeGreaterThan(6 * 50);
    expect(value(text, 'bicorn_workers{state="ready"}')).toBe(2);
    for (const worker of ['1', '2']) expect(value(text, `bicorn_worker_resident_memory_bytes{worker="${worker}"}`)).toBeGreaterThan(10 * 1024 * 1024);
    expect(text).toMatch(/^bicorn_master_process_resident_memory_bytes \d+$/m);
    // Bounded labels: no path, no query, no worker id that grows with restarts.
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(series.filter((l) => /\/|x=1|worker="[^12]"/.test(l))).toEqual([]);
    expect(series.every((l) => l.startsWith('bicorn_'))).toBe(true);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('counts files served by --static apart, and among the requests', async () => {
    const dir = tempDir('bicorn-metrics-static-');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'site.css'), 'body { color: red }');
    const { bicorn, url, metrics } = await serveWithMetrics(['--static', `/static/=${join(dir, 'assets')}`, fixture('apps/fetch.mjs')]);
    for (let i = 0; i < 3; i++) expect(await send(`${url}/static/site.css`, 'GET')).toBe(200);
    expect(await send(`${url}/app`, 'GET')).toBe(200);
    const text = await scrapeUntil(metrics, 'bicorn_http_request_duration_seconds_count', 4);
    expect(value(text, 'bicorn_static_responses_total')).toBe(3);
    expect(value(text, 'bicorn_http_requests_total{method="GET",status="2xx",interface="fetch"}')).toBe(4);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("counts a killed worker's restart by its cause and keeps the requests it had reported", async () => {
    const { bicorn, url, metrics } = await serveWithMetrics([fixture('apps/fetch.mjs')]);
    for (let i = 0; i < 3; i++) await get(`${url}/`);
    await scrapeUntil(metrics, 'bicorn_http_request_duration_seconds_count', 3);
    process.kill(bicorn.workerPid(), 'SIGKILL');
    await bicorn.waitForLog('the replacement', (l) => l.msg === 'worker ready' && l.workerId === 2);
    await get(`${url}/`);
    const text = await scrapeUntil(metrics, 'bicorn_http_request_duration_seconds_count', 4);
    expect(value(text, 'bicorn_worker_restarts_total{cause="killed"}')).toBe(1);
    expect(value(text, 'bicorn_http_requests_total{method="GET",status="2xx",interface="fetch"}')).toBe(4);
    // The replacement took the dead worker's slot.
    expect(text).toMatch(/^bicorn_http_requests_in_flight\{worker="1"\} 0$/m);
    expect(text).not.toMatch(/worker="2"/);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('counts reloads by outcome and requests ended by the request timeout', async () => {
    const { bicorn, url, metrics } = await serveWithMetrics(['--request-timeout', '0.5', fixture('apps/hang.mjs')]);
    bicorn.signal('SIGHUP');
    await bicorn.waitForLog('the reload', (l) => l.msg === 'reloaded');
    expect((await get(`${url}/hang`)).status).toBe(504);
    const text = await scrapeUntil(metrics, 'bicorn_request_timeouts_total', 1);
    expect(value(text, 'bicorn_reloads_total{outcome="ok"}')).toBe(1);
    expect(value(text, 'bicorn_reloads_total{outcome="failed"}')).toBe(0);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('counts a WebSocket message over ws_max_size as a limit rejection, and the WebSockets open', async () => {
    const { bicorn, url, metrics } = await serveWithMetrics(['--ws-max-size', '1024', fixture('apps/asgi-full.mjs')]);
    const open = await openWs(wsUrl(url, '/echo'));
    await scrapeUntil(metrics, 'bicorn_websockets_open{worker="1"}', 1);
    const tooBig = await openWs(wsUrl(url, '/echo'));
    tooBig.ws.send('x'.repeat(2000));
    expect((await tooBig.closed).code).toBe(1009);
    const text = await scrapeUntil(metrics, 'bicorn_limit_rejections_total{kind="ws-message-size"}', 1);
    expect(value(text, 'bicorn_limit_rejections_total{kind="ws-message-size"}')).toBe(1);
    open.ws.close();
    await open.closed;
    expect((await bicorn.stop()).code).toBe(0);
  });

  it("counts the front's refusals by the limit they enforce", async () => {
    const { bicorn, url, metrics } = await serveWithMetrics(['--limit-request-line', '64', '--limit-request-body', '4', fixture('apps/fetch.mjs')]);
    expect(await send(`${url}/${'x'.repeat(100)}`, 'GET')).toBe(414);
    expect(await send(`${url}/upload`, 'POST')).toBe(413);
    const text = await scrapeUntil(metrics, 'bicorn_limit_rejections_total{kind="request-body"}', 1);
    expect(value(text, 'bicorn_limit_rejections_total{kind="request-line"}')).toBe(1);
    expect(value(text, 'bicorn_limit_rejections_total{kind="concurrency"}')).toBe(0);
    expect((await bicorn.stop()).code).toBe(0);
  });

  it.skipIf(!hasPython)("reports each worker's Python process: its memory, and the CPU time it used", async () => {
    const bicorn = servePython('hello_wsgi:application', ['-w', '2', '--metrics-bind', '127.0.0.1:0']);
    await bicorn.listening();
    const line = await bicorn.waitForLog('the metrics address', (l) => l.msg === 'metrics listening');
    const text = await pollUntil('both Python processes', async () => {
      const scraped = (await get(`http://${String(line.address)}/metrics`)).body;
      return scraped.includes('bicorn_python_resident_memory_bytes{worker="2"}') ? scraped : undefined;
    });
    for (const worker of ['1', '2']) {
      expect(value(text, `bicorn_python_resident_memory_bytes{worker="${worker}"}`)).toBeGreaterThan(5 * 1024 * 1024);
      // Loading the app took CPU time.
      expect(value(text, `bicorn_python_cpu_seconds_total{worker="${worker}"}`)).toBeGreaterThan(0);
    }
    expect((await bicorn.stop()).code).toBe(0);
  });
});

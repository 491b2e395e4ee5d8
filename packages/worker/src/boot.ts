// Booting a worker from the master's boot message: config, logs, the app host, the HTTP
// server, the recycler and the reports to the master. Throws a BicornError when the worker
// cannot serve. Runs in a worker.
import { reviveConfig, staticMounts, type Config } from '@bicorn/config';
import { ExitCode, isBicornError, type AppInterface, type AppLoad, type MasterMessage, type RecycleReason, type TlsBoot, type WorkerStats } from '@bicorn/protocol';
import { createAccessLog, openProcessLogs, type Logger } from '@bicorn/runtime';
import type { StaticFiles } from '@bicorn/static';
import { failedAppHost, startAppHost, type AppHost } from './app-host.js';
import type { PythonAppHooks } from './python-app.js';
import type { ForwardedHeader } from './forwarded.js';
import { WorkerServer, type FrontOptions } from './http-server.js';
import type { Http2Options } from './http2-sessions.js';
import { RequestMetrics } from './metrics.js';
import { PeerTrust } from './peer-trust.js';
import type { HeaderField } from './request-rules.js';
import { Recycler } from './recycler.js';
import { StatsReporter } from './stats-reporter.js';
import { websocketMessageLimit } from './websocket-upgrades.js';

export interface RunningWorker {
  readonly config: Config;
  readonly log: Logger;
  readonly server: WorkerServer;
  readonly appInterface: string;
  /** What its app can take on; `watchLoad` hears of changes. */
  load(): AppLoad;
  watchLoad(listener: () => void): void;
  /** Set under --reload when the app failed to load: the worker serves this error instead. */
  readonly loadError: string | null;
  /** Stops the app host once requests have drained; the same promise on every call. */
  closeApp(timeoutMs: number): Promise<void>;
  /** Stops the app host now. */
  destroyApp(): void;
  reopenLogs(): void;
  /** Scaling moved the count of serving workers to `count`. */
  workersChanged(count: number): void;
  /** Writes every buffered log line; call before exiting. */
  flushLogs(): void;
}

export interface WorkerHooks extends Omit<PythonAppHooks, 'workerId'> {
  /** Asks the master to replace this worker. */
  readonly recycle: (reason: RecycleReason, detail: string) => void;
  /** Sends the master the worker's report (every second). */
  readonly report: (stats: WorkerStats) => void;
}

export async function bootWorker(boot: Extract<MasterMessage, { type: 'boot' }>, hooks: WorkerHooks): Promise<RunningWorker> {
  const config = reviveConfig(boot.config);
  if (config.chdir !== null) process.chdir(config.chdir);
  if (config.proc_name !== null) process.title = `bicorn: worker [${config.proc_name}]`;
  const { log, destination, statsd } = openProcessLogs(config, 'worker', boot.workerId);
  const accessLog = config.access_log === null ? undefined : createAccessLog(config.access_log, config.log_format, config.access_log_format, config.log_json_style, boot.workerId);
  // Before the app loads: a static directory that does not exist stops the start (exit 2).
  const statics = await openStaticFiles(config, log);
  const metrics = new RequestMetrics(config.metrics_bind !== null, statsd);
  const { app, loadError } = await loadApp(config, log, { ...hooks, workerId: boot.workerId }, metrics);
  const recycler = new Recycler({
    maxRequests: config.max_requests,
    maxRequestsJitter: config.max_requests_jitter,
    maxRssMiB: config.max_rss,
    maxLifetimeS: config.max_worker_lifetime,
    appPid: () => app.appPid,
    recycle: hooks.recycle,
    log,
  });
  // Once a request found the app's process stuck, it gets no time to finish at the stop.
  let appStuck = false;
  const websocket =
    app.websocket === undefined
      ? undefined
      : {
          app: app.websocket,
          options: {
            maxMessageSize: websocketMessageLimit(config),
            pingIntervalMs: config.ws_ping_interval * 1000,
            pingTimeoutMs: config.ws_ping_timeout * 1000,
            perMessageDeflate: config.ws_per_message_deflate,
            receiveWindow: config.stream_window,
            sendWindow: config.stream_window,
            rootPath: config.root_path,
            log,
            state: app.state,
          },
        };
  const server = new WorkerServer(statics?.inFrontOf(app.listener) ?? app.listener, {
    keepAliveMs: config.keep_alive * 1000,
    requestTimeoutMs: (config.request_timeout ?? config.timeout) * 1000,
    onRequestTimeout: (req, responseStarted) => {
      // A static file that stalled says nothing about the app's process.
      if (statics?.answered(req) === true || !app.requestTimedOut(req, responseStarted)) return;
      appStuck = true;
      recycler.onAppStuck(`${req.method ?? '?'} ${req.url ?? '?'} timed out`);
    },
    onRequest: () => {
      recycler.onRequest();
    },
    log,
    accessLog,
    staticResponse: (req) => statics?.answered(req) === true,
    metrics,
    websocket,
    front: await frontOptions(config, boot.tls, app.interface, log),
  });
  const reporter = new StatsReporter({ metrics, server, appInterface: app.interface, pythonPid: () => app.pythonPid, send: hooks.report });
  return {
    config,
    log,
    server,
    appInterface: app.interface,
    load: () => app.load(),
    watchLoad: (listener) => {
      app.watchLoad(listener);
    },
    loadError,
    closeApp: async (timeoutMs) => {
      recycler.close();
      reporter.close();
      await app.close(appStuck ? 0 : timeoutMs);
      await statsd?.close();
    },
    destroyApp: () => {
      recycler.close();
      app.destroy();
    },
    reopenLogs: () => {
      destination.reopen();
      accessLog?.reopen();
    },
    workersChanged: (count) => {
      app.workersChanged?.(count);
    },
    flushLogs: () => {
      accessLog?.flush();
      destination.flush();
    },
  };
}

async function openStaticFiles(config: Config, log: Logger): Promise<StaticFiles | undefined> {
  if (config.static.length === 0) return undefined;
  // Loaded only when asked for: the static host and its media-type table hold about 2.6 MiB of heap.
  const { StaticFiles } = await import('@bicorn/static');
  return new StaticFiles({
    mounts: staticMounts(config.static),
    cwd: process.cwd(),
    rootPath: config.root_path,
    maxAgeS: config.static_max_age,
    hashedMaxAgeS: config.static_hashed_max_age,
    cors: config.static_cors,
    followSymlinks: config.static_follow_symlinks,
    log,
  });
}

/** The front's checks and headers, from the settings; TLS and HTTP/2 loaded only when served. */
async function frontOptions(config: Config, tls: TlsBoot | null, appInterface: AppInterface, log: Logger): Promise<FrontOptions> {
  const http2 = http2Options(config, appInterface);
  const forwarded: ForwardedHeader[] = config.proxy_headers ? ['x-forwarded-for', 'x-forwarded-proto', ...config.forwarder_headers] : [];
  const responseHeaders: HeaderField[] = config.server_header ? [['server', 'bicorn']] : [];
  for (const line of config.headers) {
    const colon = line.indexOf(':');
    // Lower-case, as the front compares it with the app's names (front-response.ts).
    responseHeaders.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return {
    limits: {
      line: config.limit_request_line,
      fields: config.limit_request_fields,
      fieldSize: config.limit_request_field_size,
      body: config.limit_request_body,
    },
    headerTimeoutMs: config.header_timeout * 1000,
    concurrency: config.limit_concurrency,
    forwarding: { trust: new PeerTrust(config.forwarded_allow_ips), headers: new Set(forwarded) },
    rootPath: config.root_path,
    proxyProtocol: config.proxy_protocol === 'off' ? undefined : { mode: config.proxy_protocol, allowed: new PeerTrust(config.proxy_allow_ips) },
    responseHeaders,
    dateHeader: config.date_header,
    tls: tls === null ? undefined : new (await import('./tls-front.js')).TlsFront(config, tls, alpnProtocols(config, appInterface), log),
    http2: http2 === undefined ? undefined : { options: http2, Sessions: (await import('./http2-sessions.js')).Http2Sessions },
  };
}

/**
 * Whether TLS clients may get HTTP/2 by ALPN. Node 20's HTTP/2 compatibility objects break
 * Express and its kind, so a Node request listener gets it only when HTTP/1.1 is not served
 * (http_protocols h2): then it was asked for.
 */
function http2ByAlpn(config: Config, appInterface: AppInterface): boolean {
  const protocols = config.http_protocols.split(',');
  return protocols.includes('h2') && (appInterface !== 'node' || !protocols.includes('h1'));
}

/** What TLS offers by ALPN, in http_protocols' order. */
function alpnProtocols(config: Config, appInterface: AppInterface): string[] {
  if (!http2ByAlpn(config, appInterface)) return ['http/1.1'];
  return config.http_protocols.split(',').map((version) => (version === 'h2' ? 'h2' : 'http/1.1'));
}

function http2Options(config: Config, appInterface: AppInterface): Http2Options | undefined {
  const alpn = config.certfile !== null && http2ByAlpn(config, appInterface);
  const cleartext = config.http2_cleartext === 'prior-knowledge';
  if (!alpn && !cleartext) return undefined;
  return {
    settings: {
      maxConcurrentStreams: config.http2_max_concurrent_streams,
      initialWindowSize: config.http2_initial_window_size,
      maxFrameSize: config.http2_max_frame_size,
      maxHeaderListSize: config.http2_max_header_list_size,
    },
    alpn,
    cleartext,
    http1: config.http_protocols.split(',').includes('h1'),
  };
}

/** The app host; under --reload, an app that fails to load becomes a page showing why. */
async function loadApp(config: Config, log: Logger, hooks: PythonAppHooks, metrics: RequestMetrics): Promise<{ app: AppHost; loadError: string | null }> {
  try {
    return {
      app: await startAppHost(config, log, hooks, (kind) => {
        metrics.limitRejected(kind);
      }),
      loadError: null,
    };
  } catch (error) {
    const appFailed = isBicornError(error) && (error.exitCode === ExitCode.AppLoad || error.exitCode === ExitCode.WorkerBoot);
    if (!config.reload || !appFailed) throw error;
    log.error({ err: error }, 'the app failed to load; answering 500 with the error until a watched file changes');
    return { app: failedAppHost(error.message), loadError: error.message };
  }
}

// Booting a worker from the master's boot message: config, logs, the app host and the HTTP
// server. Throws a BicornError when the worker cannot serve. Runs in a worker.
import { reviveConfig, type Config } from '@bicorn/config';
import type { MasterMessage } from '@bicorn/protocol';
import { createAccessLog, createLogger, type Logger } from '@bicorn/runtime';
import { startAppHost } from './app-host.js';
import { WorkerServer } from './http-server.js';

export interface RunningWorker {
  readonly config: Config;
  readonly log: Logger;
  readonly server: WorkerServer;
  readonly appInterface: string;
  /** Stops the app host once requests have drained. */
  closeApp(timeoutMs: number): Promise<void>;
  /** Writes every buffered log line; call before exiting. */
  flushLogs(): void;
}

export async function bootWorker(boot: Extract<MasterMessage, { type: 'boot' }>, onAppDeath: () => void): Promise<RunningWorker> {
  const config = reviveConfig(boot.config);
  if (config.chdir !== null) process.chdir(config.chdir);
  const { log, destination } = createLogger({
    role: 'worker',
    workerId: boot.workerId,
    level: config.log_level,
    format: config.log_format,
    destination: config.error_log,
  });
  const accessLog = config.access_log === null ? undefined : createAccessLog(config.access_log, config.log_format, boot.workerId);
  const app = await startAppHost(config, log, onAppDeath);
  const websocket =
    app.websocket === undefined
      ? undefined
      : {
          app: app.websocket,
          options: {
            maxMessageSize: config.ws_max_size,
            pingIntervalMs: config.ws_ping_interval * 1000,
            pingTimeoutMs: config.ws_ping_timeout * 1000,
            perMessageDeflate: config.ws_per_message_deflate,
            receiveWindow: config.stream_window,
            rootPath: config.root_path,
            log,
            state: app.state,
          },
        };
  const server = new WorkerServer(app.listener, { keepAliveMs: config.keep_alive * 1000, log, accessLog, websocket });
  return {
    config,
    log,
    server,
    appInterface: app.interface,
    closeApp: (timeoutMs) => app.close(timeoutMs),
    flushLogs: () => {
      accessLog?.flush();
      destination.flush();
    },
  };
}

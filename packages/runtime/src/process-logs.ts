// A process's server log from the settings, and with statsd_host the StatsD client that counts
// its warning and error lines as gunicorn counts its own (and that the caller sends its other
// metrics with). Runs in the master and the workers.
import type { Config } from '@bicorn/config';
import { createLogger, type LogLevel, type ProcessLogger } from './logger.js';
import { openStatsd, type StatsdClient } from './statsd.js';

export interface ProcessLogs extends ProcessLogger {
  readonly statsd: StatsdClient | undefined;
}

type LogSettings = Pick<Config, 'log_level' | 'log_format' | 'log_json_style' | 'error_log' | 'use_colors' | 'statsd_host' | 'statsd_prefix' | 'dogstatsd_tags'>;

export function openProcessLogs(config: LogSettings, role: 'master' | 'worker', workerId?: number): ProcessLogs {
  const statsd = openStatsd(config, (reason) => {
    logger.log.warn({ reason }, 'StatsD metrics are not being sent');
  });
  const logger = createLogger({
    role,
    ...(workerId === undefined ? {} : { workerId }),
    level: config.log_level,
    format: config.log_format,
    jsonStyle: config.log_json_style,
    destination: config.error_log,
    colours: config.use_colors,
    ...(statsd === undefined ? {} : { onLine: (level: LogLevel) => statsd.logLine(level) }),
  });
  return { ...logger, statsd };
}

// The effective settings as a gunicorn config holds them, under gunicorn's names: the `cfg` that a
// gunicorn.conf.py's server hooks read (`server.cfg.workers`). Pure.
import type { Config } from './settings.js';

/** gunicorn's names for bicorn's log levels. */
const LOG_LEVELS: Readonly<Record<Config['log_level'], string>> = { trace: 'debug', debug: 'debug', info: 'info', warn: 'warning', error: 'error', fatal: 'critical' };

/**
 * The settings hooks read most, as gunicorn holds them (`server.cfg.workers`, `worker.cfg.bind`).
 * The environment (`raw_env`) is left out: its values never leave the app's own environment.
 */
export function gunicornView(config: Config): Record<string, unknown> {
  return {
    bind: config.bind,
    backlog: config.backlog,
    workers: config.workers,
    worker_class: config.wsgi_concurrency === 'gevent' ? 'gevent' : config.interface === 'asgi' ? 'asgi' : config.threads > 1 ? 'gthread' : 'sync',
    threads: config.threads,
    worker_connections: config.worker_connections,
    max_requests: config.max_requests,
    max_requests_jitter: config.max_requests_jitter,
    timeout: config.timeout,
    graceful_timeout: config.graceful_timeout,
    keepalive: config.keep_alive,
    chdir: config.chdir ?? process.cwd(),
    pythonpath: config.pythonpath.length === 0 ? null : config.pythonpath.join(','),
    reload: config.reload,
    daemon: config.daemon,
    pidfile: config.pid,
    user: config.user,
    group: config.group,
    umask: config.umask,
    accesslog: config.access_log,
    errorlog: config.error_log,
    loglevel: LOG_LEVELS[config.log_level],
    logconfig: config.log_config,
    proc_name: config.proc_name,
    forwarded_allow_ips: config.forwarded_allow_ips,
    limit_request_line: config.limit_request_line,
    limit_request_fields: config.limit_request_fields,
    limit_request_field_size: config.limit_request_field_size,
    wsgi_app: config.app,
  };
}

// What bicorn does with each flag of gunicorn and uvicorn that no setting declares: the two
// lists (accepted with no effect and one info line; refused with the reason and what to do
// instead), and the flags the CLI itself handles. Flags that a setting declares are in @bicorn/config's table. A test checks this,
// the settings and the snapshot of both tools (peer-flags.json) agree. Runs in the CLI.
import type { SettingKey } from '@bicorn/config';

/** What a value given to a flag does. */
export type Outcome =
  /** Accepted: bicorn behaves this way anyway (`--protocol http`). */
  | { readonly kind: 'same' }
  /** Accepted; one info line at start says why it has no effect and what bicorn does instead. */
  | { readonly kind: 'ignored'; readonly why: string }
  /** Exit 2, with the reason and the alternative. */
  | { readonly kind: 'refused'; readonly why: string; readonly instead: string }
  /** Sets a setting (`-k sync` sets interface to wsgi). */
  | { readonly kind: 'sets'; readonly key: SettingKey; readonly value: string };

export type FlagRule =
  /** Handled by the CLI itself; `feeds` is the setting `bicorn check` shows it in. */
  | { readonly kind: 'cli'; readonly flags: readonly string[]; readonly feeds?: SettingKey; readonly doc: string }
  | { readonly kind: 'rule'; readonly flags: readonly string[]; readonly takes: 'value' | 'none'; readonly outcome: Outcome }
  /** The outcome depends on the value; values not listed get `other`. */
  | { readonly kind: 'by-value'; readonly flags: readonly string[]; readonly values: Readonly<Record<string, Outcome>>; readonly other: Outcome };

const same: Outcome = { kind: 'same' };
const ignored = (why: string): Outcome => ({ kind: 'ignored', why });
const refused = (why: string, instead: string): Outcome => ({ kind: 'refused', why, instead });
const asgi: Outcome = { kind: 'sets', key: 'interface', value: 'asgi' };
const gevent: Outcome = { kind: 'sets', key: 'wsgi_concurrency', value: 'gevent' };
const wsgi: Outcome = { kind: 'sets', key: 'interface', value: 'wsgi' };

const rule = (flags: readonly string[], takes: 'value' | 'none', outcome: Outcome): FlagRule => ({ kind: 'rule', flags, takes, outcome });
const cli = (flags: readonly string[], doc: string, feeds?: SettingKey): FlagRule => (feeds === undefined ? { kind: 'cli', flags, doc } : { kind: 'cli', flags, feeds, doc });


const nodeParser = 'the worker parses HTTP with Node.js (llhttp), which answers 400 to such requests';
const nodeHttp = ignored('the worker parses HTTP with Node.js (llhttp)');
const wsPackage = ignored('the worker serves WebSockets with the ws package');
const appOutput = "the app's stdout and stderr always reach the log, line by line";
const noSyslog = refused('bicorn does not write to syslog', 'log to stdout (the default) and let journald or your collector forward to syslog');
const noDirtyWorkers = refused("bicorn has no dirty workers (gunicorn 27's pool for long tasks)", 'run long tasks in a task queue (Celery, RQ, Dramatiq), or in a second bicorn with its own workers');
const eventletWorkers = refused('eventlet workers are gone from gunicorn 27, and bicorn has none', '-k gevent for greenlets (gevent installed in the app\'s environment), --threads N for real threads, or serve an ASGI app');

export const dropinRules: readonly FlagRule[] = [
  // The CLI's own handling.
  cli(['-c', '--config'], "bicorn's own config files (JSON, YAML, JavaScript), and gunicorn's: a gunicorn.conf.py, python:module or file:path is run by the app's Python, as is ./gunicorn.conf.py when no config file is named (see gunicorn_config)"),
  cli(['--check-config'], 'checks the configuration, then loads the app in a helper process (as bicorn check --load-app): exit 0, or 4 when it fails to load'),
  cli(['--print-config'], 'prints every effective value with its source (bicorn check)'),
  cli(['--host'], 'with --port, one bind address', 'bind'),
  cli(['--port'], 'with --host, one bind address', 'bind'),
  cli(['--uds'], 'binds unix:PATH', 'bind'),
  cli(['--fd'], 'binds fd://N', 'bind'),
  cli(['--access-log'], 'uvicorn\'s boolean: the access log to stdout, unless --access-logfile names a file', 'access_log'),
  cli(['--no-access-log'], 'no access log', 'access_log'),
  cli(['--version'], "prints bicorn's version"),
  {
    kind: 'by-value',
    flags: ['-k', '--worker-class'],
    values: {
      sync: wsgi,
      gthread: wsgi,
      'gunicorn.workers.sync.SyncWorker': wsgi,
      'gunicorn.workers.gthread.ThreadWorker': wsgi,
      asgi,
      'gunicorn.workers.gasgi.ASGIWorker': asgi,
      'uvicorn.workers.UvicornWorker': asgi,
      'uvicorn.workers.UvicornH11Worker': asgi,
      'uvicorn_worker.UvicornWorker': asgi,
      'uvicorn_worker.UvicornH11Worker': asgi,
      gevent,
      gevent_wsgi: gevent,
      gevent_pywsgi: gevent,
      'gunicorn.workers.ggevent.GeventWorker': gevent,
      'gunicorn.workers.ggevent.GeventPyWSGIWorker': gevent,
      eventlet: eventletWorkers,
      tornado: refused('bicorn has no Tornado worker', 'serve the Tornado app as a WSGI app, or run it on Tornado itself'),
    },
    other: refused('bicorn does not know this worker class', '-k sync or gthread for WSGI apps, -k uvicorn.workers.UvicornWorker for ASGI ones, or leave it out: bicorn tells them apart (--interface auto)'),
  },

  // gunicorn: accepted, with no effect.
  rule(['--suppress-ragged-eofs'], 'none', ignored('a client that ends TLS without close_notify is a closed connection, as with this flag')),
  rule(['--do-handshake-on-connect'], 'none', ignored('the worker does the TLS handshake as soon as it takes the connection')),
  rule(['--reload-engine'], 'value', ignored('--reload watches files with chokidar (inotify on Linux)')),
  rule(['--preload'], 'none', ignored("the master never imports the app: each worker's Python process does, and an app that fails to import still stops bicorn with exit 4 (--check-config tries it before a deploy)")),
  rule(['--no-sendfile'], 'none', ignored('bicorn never uses sendfile(): the worker streams file responses itself')),
  rule(['--reuse-port'], 'none', ignored('Node.js 20 cannot set SO_REUSEPORT; the master binds each address once and its workers share it')),
  rule(['--worker-tmp-dir'], 'value', ignored("workers answer the master's heartbeat over IPC, with no files")),
  rule(['--enable-backlog-metric'], 'none', ignored('bicorn does not send gunicorn.backlog (how many connections wait in a listening socket\'s queue, which Node.js does not expose); the other StatsD metrics are sent (statsd_host)')),
  rule(['--disable-redirect-access-to-syslog'], 'none', ignored('bicorn has no syslog output: the access log goes where --access-logfile says')),
  rule(['--capture-output'], 'none', ignored(appOutput)),
  rule(['-R', '--enable-stdio-inheritance'], 'none', ignored(appOutput)),
  rule(['--uwsgi-allow-from'], 'value', ignored('it only matters with --protocol uwsgi, which bicorn does not speak')),
  rule(['--permit-obsolete-folding'], 'none', ignored(nodeParser)),
  rule(['--strip-header-spaces'], 'none', ignored(nodeParser)),
  rule(['--permit-unconventional-http-method'], 'none', ignored(nodeParser)),
  rule(['--permit-unconventional-http-version'], 'none', ignored(nodeParser)),
  rule(['--casefold-http-method'], 'none', ignored(nodeParser)),
  rule(['--asgi-disconnect-grace-period'], 'value', ignored('bicorn never cancels an ASGI app when its client leaves: the app gets http.disconnect and finishes')),
  rule(['--http-parser'], 'value', nodeHttp),
  {
    kind: 'by-value',
    flags: ['--header-map'],
    values: { drop: same },
    other: refused("bicorn drops request headers whose names hold an underscore from a WSGI environ (gunicorn's default, drop)", 'have the proxy send the header under a name with dashes, or serve the app as ASGI, which gets every header as it came'),
  },
  {
    kind: 'by-value',
    flags: ['--protocol'],
    values: { http: same },
    other: refused('bicorn speaks HTTP only, not the uWSGI protocol', "point nginx at it with proxy_pass instead of uwsgi_pass"),
  },

  // gunicorn: refused.
  rule(['--spew'], 'none', refused('bicorn cannot trace every line the server runs', 'debug the app with --log-level debug, or run it under python -m trace or a debugger')),
  rule(['--logger-class'], 'value', refused("a Python logging class cannot plug into bicorn's logger", '--log-format json, and let your log collector shape the lines')),
  rule(['--log-syslog'], 'none', noSyslog),
  rule(['--log-syslog-to'], 'value', noSyslog),
  rule(['--log-syslog-prefix'], 'value', noSyslog),
  rule(['--log-syslog-facility'], 'value', noSyslog),
  rule(['--paste', '--paster'], 'value', refused('bicorn does not read PasteDeploy files', "serve a module that builds the app, such as app = paste.deploy.loadapp('config:/abs/path/production.ini'), as module:app")),
  rule(['--paste-global'], 'value', refused('bicorn does not read PasteDeploy files', 'pass the value to loadapp(global_conf=...) in the module that builds the app')),
  rule(['--dirty-app'], 'value', noDirtyWorkers),
  rule(['--dirty-workers'], 'value', noDirtyWorkers),
  rule(['--dirty-timeout'], 'value', noDirtyWorkers),
  rule(['--dirty-threads'], 'value', noDirtyWorkers),
  rule(['--dirty-graceful-timeout'], 'value', noDirtyWorkers),

  // gunicorn: implemented by other issues.

  // uvicorn: accepted, with no effect.
  rule(['--reload-delay'], 'value', ignored('--reload waits for a burst of changes to settle (150 ms), then reloads')),
  {
    kind: 'by-value',
    flags: ['--http'],
    values: { auto: nodeHttp, h11: nodeHttp, httptools: nodeHttp },
    other: refused('bicorn cannot plug in an HTTP protocol class', 'leave --http out: the worker parses HTTP with Node.js'),
  },
  {
    kind: 'by-value',
    flags: ['--ws'],
    values: {
      auto: wsPackage,
      websockets: wsPackage,
      'websockets-sansio': wsPackage,
      wsproto: wsPackage,
    },
    other: refused('bicorn always offers WebSockets to ASGI apps', 'an app that wants none closes the connection before accepting it (the client gets 403)'),
  },
  rule(['--ws-max-queue'], 'value', ignored('what waits for the app is bounded in bytes by --stream-window, not in messages')),
  rule(['--timeout-worker-healthcheck'], 'value', ignored("the master's heartbeat times out after --timeout (30 s)")),
  rule(['--h11-max-incomplete-event-size'], 'value', ignored("bicorn's limits on a request head are --limit-request-line and --limit-request-field_size")),
  rule(['--reset-contextvars'], 'none', ignored('each request already runs in its own copy of the context')),

  // uvicorn: implemented by a setting of another name.
  rule(['--http2'], 'none', { kind: 'sets', key: 'http_protocols', value: 'h2,h1' }),
];

/** What bicorn does with a gunicorn setting that only a config file can give (it has no flag). */
export type ConfOnlyRule =
  | Outcome
  /** wsgi_app: the app, when the command line names none. */
  | { readonly kind: 'app' }
  /** A server hook bicorn calls, in the worker's Python process or in the master's hook process. */
  | { readonly kind: 'hook'; readonly where: 'worker' | 'master' }
  /** The file's value is this setting's (tmp_upload_dir: spool_dir). */
  | { readonly kind: 'setting'; readonly key: SettingKey };

const workerHook: ConfOnlyRule = { kind: 'hook', where: 'worker' };
const masterHook: ConfOnlyRule = { kind: 'hook', where: 'master' };
const noDirtyHooks = ignored("bicorn has no dirty workers (gunicorn 27's pool for long tasks), so it never calls this hook");

export const confOnlyRules: Readonly<Record<string, ConfOnlyRule>> = {
  wsgi_app: { kind: 'app' },
  logconfig_dict: same,
  default_proc_name: ignored("it is gunicorn's internal default for proc_name; give proc_name (-n) instead"),
  tmp_upload_dir: { kind: 'setting', key: 'spool_dir' },
  secure_scheme_headers: ignored('bicorn takes the scheme from X-Forwarded-Proto (or Forwarded\'s proto) sent by a proxy in forwarded_allow_ips, with proxy_headers on; other scheme headers are not read'),
  post_fork: workerHook,
  post_worker_init: workerHook,
  pre_request: workerHook,
  post_request: workerHook,
  worker_int: workerHook,
  worker_abort: workerHook,
  worker_exit: workerHook,
  on_starting: masterHook,
  when_ready: masterHook,
  on_reload: masterHook,
  pre_fork: masterHook,
  child_exit: masterHook,
  nworkers_changed: masterHook,
  on_exit: masterHook,
  pre_exec: ignored('bicorn never re-executes its master (gunicorn does on USR2), so it never calls this hook; upgrade by restarting, or by a reload (HUP) for the app'),
  ssl_context: refused("bicorn's TLS is Node.js's, so a Python SSLContext cannot configure it", 'give certfile, keyfile, ca_certs, cert_reqs, ciphers and tls_min_version'),
  on_dirty_starting: noDirtyHooks,
  dirty_post_fork: noDirtyHooks,
  dirty_worker_init: noDirtyHooks,
  dirty_worker_exit: noDirtyHooks,
};

/** The rule of a flag, by any of its names. */
export function ruleFor(flag: string): FlagRule | undefined {
  return dropinRules.find((r) => r.flags.includes(flag));
}

/** What a flag given this value does. */
export function outcomeOf(rule: Exclude<FlagRule, { kind: 'cli' }>, value: unknown): Outcome {
  if (rule.kind === 'rule') return rule.outcome;
  return typeof value === 'string' && Object.hasOwn(rule.values, value) ? (rule.values[value] ?? rule.other) : rule.other;
}

/** The one line a person reads about an outcome that is not plain acceptance. */
export function describeOutcome(flag: string, value: unknown, outcome: Exclude<Outcome, { kind: 'same' } | { kind: 'sets' }>): string {
  const given = typeof value === 'string' ? `${flag} ${value}` : flag;
  switch (outcome.kind) {
    case 'ignored':
      return `${given} has no effect: ${outcome.why}`;
    case 'refused':
      return `${given} is not supported: ${outcome.why}; instead, ${outcome.instead}`;
  }
}

// What bicorn does with each flag of gunicorn and uvicorn that no setting declares: the three
// lists (accepted with no effect and one info line; refused with the reason and what to do
// instead; implemented by another issue, refused until it lands), and the flags the CLI itself
// handles. Flags that a setting declares are in @bicorn/config's table. A test checks this,
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
  /** Another issue implements it; exit 2 until then. */
  | { readonly kind: 'pending'; readonly issue: number; readonly what: string }
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
const pending = (issue: number, what: string): Outcome => ({ kind: 'pending', issue, what });
const asgi: Outcome = { kind: 'sets', key: 'interface', value: 'asgi' };
const wsgi: Outcome = { kind: 'sets', key: 'interface', value: 'wsgi' };

const rule = (flags: readonly string[], takes: 'value' | 'none', outcome: Outcome): FlagRule => ({ kind: 'rule', flags, takes, outcome });
const cli = (flags: readonly string[], doc: string, feeds?: SettingKey): FlagRule => (feeds === undefined ? { kind: 'cli', flags, doc } : { kind: 'cli', flags, feeds, doc });

const CONF = 18;
const TLS = 20;

const nodeParser = 'the worker parses HTTP with Node.js (llhttp), which answers 400 to such requests';
const nodeHttp = ignored('the worker parses HTTP with Node.js (llhttp)');
const wsPackage = ignored('the worker serves WebSockets with the ws package');
const appOutput = "the app's stdout and stderr always reach the log, line by line";
const noSyslog = refused('bicorn does not write to syslog', 'log to stdout (the default) and let journald or your collector forward to syslog');
const noDirtyWorkers = refused("bicorn has no dirty workers (gunicorn 27's pool for long tasks)", 'run long tasks in a task queue (Celery, RQ, Dramatiq), or in a second bicorn with its own workers');
const greenWorkers = refused('bicorn has no green-thread workers', 'serve WSGI apps with --threads N (real threads; the worker takes any number of connections), or ASGI apps');

export const dropinRules: readonly FlagRule[] = [
  // The CLI's own handling.
  cli(['-c', '--config'], 'bicorn reads its own config files (JSON, YAML, JavaScript); a gunicorn.conf.py or python:module is refused until issue 18 reads them, and a ./gunicorn.conf.py that gunicorn would read by default gets a warning'),
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
      gevent: pending(CONF, 'gevent workers'),
      gevent_wsgi: pending(CONF, 'gevent workers'),
      gevent_pywsgi: pending(CONF, 'gevent workers'),
      'gunicorn.workers.ggevent.GeventWorker': pending(CONF, 'gevent workers'),
      eventlet: greenWorkers,
      tornado: refused('bicorn has no Tornado worker', 'serve the Tornado app as a WSGI app, or run it on Tornado itself'),
    },
    other: refused('bicorn does not know this worker class', '-k sync or gthread for WSGI apps, -k uvicorn.workers.UvicornWorker for ASGI ones, or leave it out: bicorn tells them apart (--interface auto)'),
  },

  // gunicorn: accepted, with no effect.
  rule(['--worker-connections'], 'value', ignored('a worker takes any number of connections on its event loop; --limit-concurrency caps the requests in flight')),
  rule(['--reload-engine'], 'value', ignored('--reload watches files with chokidar (inotify on Linux)')),
  rule(['--preload'], 'none', ignored("the master never imports the app: each worker's Python process does, and an app that fails to import still stops bicorn with exit 4 (--check-config tries it before a deploy)")),
  rule(['--no-sendfile'], 'none', ignored('bicorn never uses sendfile(): the worker streams file responses itself')),
  rule(['--reuse-port'], 'none', ignored('Node.js 20 cannot set SO_REUSEPORT; the master binds each address once and its workers share it')),
  rule(['--worker-tmp-dir'], 'value', ignored("workers answer the master's heartbeat over IPC, with no files")),
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
  rule(['-D', '--daemon'], 'none', pending(CONF, 'daemon mode')),
  rule(['-n', '--name'], 'value', pending(CONF, 'process names')),
  rule(['--log-config'], 'value', pending(CONF, 'Python logging config files')),
  rule(['--log-config-json'], 'value', pending(CONF, 'Python logging config files')),
  rule(['--statsd-host'], 'value', pending(CONF, 'StatsD metrics')),
  rule(['--statsd-prefix'], 'value', pending(CONF, 'StatsD metrics')),
  rule(['--dogstatsd-tags'], 'value', pending(CONF, 'StatsD metrics')),
  rule(['--enable-backlog-metric'], 'none', pending(CONF, 'StatsD metrics')),
  rule(['--ssl-version'], 'value', pending(TLS, 'TLS')),
  rule(['--cert-reqs'], 'value', pending(TLS, 'TLS')),
  rule(['--ca-certs'], 'value', pending(TLS, 'TLS')),
  rule(['--suppress-ragged-eofs'], 'none', pending(TLS, 'TLS')),
  rule(['--do-handshake-on-connect'], 'none', pending(TLS, 'TLS')),
  rule(['--ciphers'], 'value', pending(TLS, 'TLS')),
  rule(['--http-protocols'], 'value', pending(TLS, 'HTTP/2')),
  rule(['--http2-cleartext'], 'value', pending(TLS, 'HTTP/2')),
  rule(['--http2-max-concurrent-streams'], 'value', pending(TLS, 'HTTP/2')),
  rule(['--http2-initial-window-size'], 'value', pending(TLS, 'HTTP/2')),
  rule(['--http2-max-frame-size'], 'value', pending(TLS, 'HTTP/2')),
  rule(['--http2-max-header-list-size'], 'value', pending(TLS, 'HTTP/2')),

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

  // uvicorn: implemented by other issues.
  rule(['--http2'], 'none', pending(TLS, 'HTTP/2')),
  rule(['--ssl-keyfile-password'], 'value', pending(TLS, 'TLS')),
  rule(['--ssl-cert-reqs'], 'value', pending(TLS, 'TLS')),
  rule(['--ssl-ca-certs'], 'value', pending(TLS, 'TLS')),
  rule(['--ssl-ciphers'], 'value', pending(TLS, 'TLS')),
];

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
    case 'pending':
      return `${given} is not supported yet: issue ${String(outcome.issue)} brings ${outcome.what}; leave it out for now`;
  }
}

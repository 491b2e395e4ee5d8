// The settings table: every setting bicorn has, declared once. CLI options, environment
// variables, config-file keys, the Config type and SETTINGS.md are all derived from it.
import { bindAddress, peerList, tcpAddress } from './bind.js';
import { corsOrigin, staticMount } from './static-mount.js';
import { statsdAddress } from './statsd-address.js';
import {
  choice,
  choiceIgnoringCase,
  choiceOrBare,
  choiceWithAliases,
  commaList,
  duration,
  fileMode,
  flag,
  integer,
  list,
  optional,
  text,
  urlPathPrefix,
  workerCount,
  type ValueType,
} from './values.js';

export type Section = 'Server' | 'Workers' | 'Application' | 'Python' | 'Timeouts' | 'Logging' | 'Process' | 'Limits' | 'Proxy' | 'TLS and HTTP' | 'Reload' | 'Metrics' | 'Static files';

export interface Setting<T, Input> {
  readonly section: Section;
  /**
   * CLI flags: gunicorn's name first where gunicorn has the setting; later long flags are
   * accepted aliases, mostly uvicorn's, so that either command line works as it is.
   */
  readonly flags: readonly string[];
  /** Environment variables read besides BICORN_<KEY>, which always works and wins. */
  readonly env?: readonly string[];
  readonly type: ValueType<T, Input>;
  readonly default: NoInfer<T>;
  readonly doc: string;
}

/** A user or group: a name as useradd accepts it, or a numeric id. */
function accountName(value: string): string | undefined {
  return /^(\d+|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/.test(value) ? undefined : 'a user or group name, or a numeric id';
}

/** socket_owner: `user`, `user:group` or `:group`, each part as for user and group. */
function accountOwner(value: string): string | undefined {
  const parts = value.split(':');
  const [user = '', group] = parts;
  const valid = parts.length <= 2 && (user === '' ? group !== undefined : accountName(user) === undefined) && (group === undefined || accountName(group) === undefined);
  return valid ? undefined : 'user, user:group or :group (names or numeric ids)';
}

/** A response header for --header: `Name:Value`, a token name and a value without CR, LF or NUL. */
function headerLine(value: string): string | undefined {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n\0]*$/.test(value) ? undefined : 'Name:Value (a header name, a colon, a value without line breaks)';
}

/** cert_reqs: Python's ssl.CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED, by number or name. */
const certRequirement: ValueType<0 | 1 | 2, number | string> = {
  placeholder: '<0|1|2>',
  expected: '0 (none), 1 (optional) or 2 (required)',
  parse: (raw) => {
    const name = String(raw).trim().toUpperCase().replace(/^(SSL\.)?(CERT_)?/, '');
    const levels = { '0': 0, NONE: 0, '1': 1, OPTIONAL: 1, '2': 2, REQUIRED: 2 } as const;
    const found = Object.hasOwn(levels, name) ? levels[name as keyof typeof levels] : undefined;
    return found === undefined ? { ok: false, expected: certRequirement.expected } : { ok: true, value: found };
  },
};

/**
 * ssl_version: Python's ssl.PROTOCOL_* by number or name, read as the minimum TLS version it
 * allows; `any` for those that allow every version (PROTOCOL_TLS, PROTOCOL_TLS_SERVER).
 */
const sslVersion: ValueType<'any' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2', number | string> = {
  placeholder: '<version>',
  expected: '2, 17, TLS, TLS_SERVER or SSLv23 (any version), 3 or TLSv1, 4 or TLSv1_1, 5 or TLSv1_2',
  parse: (raw) => {
    const name = String(raw).trim().replace(/^(ssl\.)?(PROTOCOL_)?/i, '').toUpperCase();
    const versions = { '2': 'any', '17': 'any', TLS: 'any', TLS_SERVER: 'any', SSLV23: 'any', '3': 'TLSv1', TLSV1: 'TLSv1', '4': 'TLSv1.1', TLSV1_1: 'TLSv1.1', '5': 'TLSv1.2', TLSV1_2: 'TLSv1.2' } as const;
    const found = Object.hasOwn(versions, name) ? versions[name as '2'] : undefined;
    return found === undefined ? { ok: false, expected: sslVersion.expected } : { ok: true, value: found };
  },
};

const forwardedHeaderNames = choiceIgnoringCase(['x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto'], '<header>');

/**
 * forwarder_headers: the forwarded headers trusted. gunicorn's setting of that name lists
 * environ keys instead (its default is SCRIPT_NAME,PATH_INFO): a header so named, from a trusted
 * proxy, is copied into the WSGI environ. The error says how to get the same here.
 */
const forwarderHeader: typeof forwardedHeaderNames = {
  ...forwardedHeaderNames,
  parse: (raw) =>
    typeof raw === 'string' && /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/i.test(raw.trim())
      ? {
          ok: false,
          expected: `${forwardedHeaderNames.expected}; gunicorn's environ keys (SCRIPT_NAME, PATH_INFO, REMOTE_USER), which copy a header of that name into the WSGI environ, are not taken: for SCRIPT_NAME have the proxy send X-Forwarded-Prefix and name x-forwarded-prefix; a proxy's user belongs in a header the app reads`,
        }
      : forwardedHeaderNames.parse(raw),
};

/** http2_cleartext: gunicorn's values but those that need h2c by Upgrade, which Node.js lacks. */
const http2Cleartext: ValueType<'off' | 'prior-knowledge'> = {
  placeholder: '<off|prior-knowledge>',
  expected: '"off" or "prior-knowledge" (Node.js has no API for h2c by an Upgrade header, so gunicorn\'s "upgrade" and "both" cannot be served)',
  parse: (raw) => (raw === 'off' || raw === 'prior-knowledge' ? { ok: true, value: raw } : { ok: false, expected: http2Cleartext.expected }),
};

function setting<T, I>(declaration: Setting<T, I>): Setting<T, I> {
  return declaration;
}

export const settings = {
  app: setting({
    section: 'Application',
    flags: ['--app'],
    type: optional(text('<app>')),
    default: null,
    doc: 'The app to serve: `path/to/app.mjs[:export]` for JavaScript, `module:callable` for Python. Usually given as the argument.',
  }),
  interface: setting({
    section: 'Application',
    flags: ['--interface'],
    type: choiceWithAliases(['auto', 'asgi', 'wsgi', 'fetch', 'node'], { asgi3: 'asgi', asgi2: 'asgi' }),
    default: 'auto',
    doc: "How to call the app; `auto` detects it. Python apps: `wsgi` or `asgi` (which also serves ASGI 2 double-callables; uvicorn's `asgi3` and `asgi2` mean it too). JavaScript apps: `asgi`, `fetch` (a `Request => Response` handler) or `node` (a `(req, res)` listener); see the js package README.",
  }),
  root_path: setting({
    section: 'Application',
    flags: ['--root-path'],
    type: urlPathPrefix,
    default: '',
    doc: 'The path prefix the app is mounted under behind a proxy; given to ASGI apps as `root_path`.',
  }),
  bind: setting({
    section: 'Server',
    flags: ['-b', '--bind'],
    type: list(bindAddress),
    default: ['127.0.0.1:8000'],
    doc: 'Address to listen on; repeat the flag to listen on several. `host:port` or `[v6]:port` (`tcp://` before it is allowed, as in gunicorn); `unix:/path` (a stale socket file is replaced, a live one refuses to start, the file is removed on exit; see socket_mode and socket_owner); `fd://N`, a listening socket inherited on descriptor N; `systemd` (every socket of systemd socket activation) or `systemd:NAME` (those with FileDescriptorName=NAME). Under socket activation without a `systemd` bind, the activated sockets replace the addresses. The master binds them all once, before the workers start, and keeps them across reloads. `--host`/`--port`, `--uds` and `--fd` are accepted as in uvicorn, and `PORT` as in gunicorn: `0.0.0.0:$PORT` when nothing else names an address.',
  }),
  backlog: setting({
    section: 'Server',
    flags: ['--backlog'],
    type: integer(1),
    default: 2048,
    doc: 'The most connections the kernel queues for a listener before bicorn accepts them.',
  }),
  socket_mode: setting({
    section: 'Server',
    flags: ['--socket-mode'],
    type: fileMode,
    default: 0o660,
    doc: 'The permission bits of unix socket files bicorn creates (`unix:` binds), in octal: 660 lets the owner and the group (a web server in socket_owner\'s group) connect.',
  }),
  socket_owner: setting({
    section: 'Server',
    flags: ['--socket-owner'],
    type: optional(text('<user[:group]>', accountOwner)),
    default: null,
    doc: 'The owner of unix socket files bicorn creates, as `user`, `user:group` or `:group` (names or ids). Default: user and group when they are set, else the user bicorn runs as.',
  }),
  workers: setting({
    section: 'Workers',
    flags: ['-w', '--workers'],
    env: ['WEB_CONCURRENCY'],
    type: workerCount,
    default: 1,
    doc: "How many worker processes to run; `auto` means one per CPU bicorn may use: the cores, or under a container's CPU limit (its cgroup's quota) the whole CPUs of that limit, at least 1.",
  }),
  threads: setting({
    section: 'Python',
    flags: ['--threads'],
    type: integer(1),
    default: 1,
    doc: 'Threads per worker for WSGI apps.',
  }),
  python: setting({
    section: 'Python',
    flags: ['--python'],
    type: optional(text('<path>')),
    default: null,
    doc: 'The Python interpreter; default `$VIRTUAL_ENV/bin/python`, else `python3` on PATH.',
  }),
  chdir: setting({
    section: 'Python',
    flags: ['--chdir'],
    type: optional(text('<dir>')),
    default: null,
    doc: 'Change to this directory before loading the app (JavaScript and Python alike).',
  }),
  pythonpath: setting({
    section: 'Python',
    flags: ['--pythonpath', '--app-dir'],
    type: commaList(text('<dir>')),
    default: [],
    doc: "Directories prepended to `sys.path`: repeatable, or several separated by commas as in gunicorn. uvicorn's `--app-dir` adds one.",
  }),
  env: setting({
    section: 'Python',
    flags: ['-e', '--env'],
    type: list(text('<KEY=VALUE>', (v) => (/^[A-Za-z_][A-Za-z0-9_]*=/.test(v) ? undefined : 'KEY=VALUE'))),
    default: [],
    doc: "Set an environment variable for the app; repeatable. Values never appear in logs.",
  }),
  env_file: setting({
    section: 'Python',
    flags: ['--env-file'],
    type: optional(text('<file>')),
    default: null,
    doc: 'Load environment variables for the app from a dotenv file.',
  }),
  stream_window: setting({
    section: 'Python',
    flags: ['--stream-window'],
    type: integer(65536, '<bytes>'),
    default: 1024 * 1024,
    doc: 'Bytes in flight per request or WebSocket, each way: between a worker and its Python process, and between a WebSocket client and the app (JavaScript or Python). What either side holds, however slow the client or the app.',
  }),
  spool_dir: setting({
    section: 'Python',
    flags: ['--spool-dir'],
    type: optional(text('<dir>')),
    default: null,
    doc: "Where request and response bodies wait on disk, as unlinked temporary files: uploads a WSGI app gets whole (those past upload_memory, and on Linux those larger than stream_window), and the part of a response that waits for a slow client (one that takes less than stream_window in 0.1 s). gunicorn's tmp_upload_dir. Default: the system's temporary directory (TMPDIR, else /tmp).",
  }),
  no_request_buffering: setting({
    section: 'Python',
    flags: ['--no-request-buffering'],
    type: flag,
    default: false,
    doc: "A WSGI app reads an upload that declares its Content-Length as it arrives, within stream_window, instead of getting it received whole first (in memory within upload_memory, else in spool_dir): a large upload never touches the disk, but a slow client then holds a Python thread, as under gunicorn. For a server behind a proxy that buffers request bodies itself (nginx's proxy_request_buffering, on by default). ASGI apps always get their bodies as they arrive.",
  }),
  spool_budget: setting({
    section: 'Limits',
    flags: ['--spool-budget'],
    type: optional(integer(0, '<bytes>')),
    default: null,
    doc: "The most bytes a worker keeps in spool_dir at once. Past it, new uploads that would need the disk get 503 with Retry-After (413 stays for bodies over their limit), and responses wait for their client in memory, within stream_window: a client that reads slowly then holds a Python thread, as under gunicorn. Default: a quarter of the free space of spool_dir's file system at start, shared by the workers (bicorn check shows it); 0: nothing on disk.",
  }),
  upload_memory: setting({
    section: 'Limits',
    flags: ['--upload-memory'],
    type: integer(0, '<bytes>'),
    default: 32 * 1024 * 1024,
    doc: "The most bytes of uploads a worker holds in memory at once while a WSGI app waits for them whole, all requests together. An upload that does not fit (its Content-Length, or its bytes so far when chunked) waits in spool_dir instead, within spool_budget. On Linux, where the Python process opens that file and the app reads the body straight from it, an upload larger than stream_window goes there too while spool_budget has room: that costs less than sending it to the Python process window after window. An upload of 1 MiB or more with a Content-Length, on a plain HTTP/1.x connection, is received by the Python process itself from the client's socket, into its memory counted here (waiting up to 0.1 s for it, else the spool takes the upload): the worker never reads it. 0: every upload with a body goes to disk.",
  }),
  lifespan: setting({
    section: 'Application',
    flags: ['--lifespan', '--asgi-lifespan'],
    type: choice(['auto', 'on', 'off']),
    default: 'auto',
    doc: 'ASGI lifespan events. `on`: startup must complete before the worker takes traffic, and a failure stops it from booting. `auto`: the same, but an app that raises on the lifespan scope is served without them. `off`: never sent.',
  }),
  loop: setting({
    section: 'Python',
    flags: ['--loop', '--asgi-loop'],
    type: choice(['auto', 'asyncio', 'uvloop']),
    default: 'auto',
    doc: 'The event loop of Python ASGI apps: `auto` uses uvloop when it can be imported, else asyncio.',
  }),
  ws_max_size: setting({
    section: 'Limits',
    flags: ['--ws-max-size', '--websocket-max-message-size'],
    type: integer(1, '<bytes>'),
    default: 16 * 1024 * 1024,
    doc: 'The largest WebSocket message accepted from a client; a larger one closes the connection with 1009.',
  }),
  ws_ping_interval: setting({
    section: 'Timeouts',
    flags: ['--ws-ping-interval'],
    type: duration,
    default: 20,
    doc: 'How often a WebSocket client is pinged; 0 turns pings off.',
  }),
  ws_ping_timeout: setting({
    section: 'Timeouts',
    flags: ['--ws-ping-timeout'],
    type: duration,
    default: 20,
    doc: 'A WebSocket client that has not answered a ping within this time is disconnected (close 1006).',
  }),
  ws_per_message_deflate: setting({
    section: 'Limits',
    flags: ['--ws-per-message-deflate', '--no-ws-per-message-deflate'],
    type: flag,
    default: false,
    doc: "Offer per-message deflate compression to WebSocket clients (costs CPU and memory per connection, so it is off unless asked for, where uvicorn has it on). uvicorn's form with a value, `--ws-per-message-deflate true|false`, works too.",
  }),
  timeout: setting({
    section: 'Timeouts',
    flags: ['-t', '--timeout'],
    type: duration,
    default: 30,
    doc: "A worker whose event loop has not answered the master's heartbeat for this long is killed (SIGABRT, then SIGKILL) and replaced; also the default request_timeout. 0 turns heartbeats off.",
  }),
  request_timeout: setting({
    section: 'Timeouts',
    flags: ['--request-timeout'],
    type: optional(duration),
    default: null,
    doc: 'A request is ended when, before its response is complete, no byte has moved either way on its connection for this long: 504, or a cut connection once the response began. A Python app process stuck in it is replaced, with its stacks logged. WebSockets are not timed. Default: timeout; 0 turns it off.',
  }),
  queue_timeout: setting({
    section: 'Timeouts',
    flags: ['--queue-timeout'],
    type: duration,
    default: 10,
    doc: "How long a request may wait for its app to start it (a Python app whose threads are all busy, or whose event loop has not answered in time, or whose process is being restarted) before it gets 503 with Retry-After and Connection: close, so that the client retries on a new connection, which the master gives to a worker that can take it. 0: no limit (request_timeout still applies).",
  }),
  graceful_timeout: setting({
    section: 'Timeouts',
    flags: ['--graceful-timeout', '--timeout-graceful-shutdown'],
    type: duration,
    default: 30,
    doc: 'On stop, how long in-flight requests may run before their worker is killed.',
  }),
  shutdown_delay: setting({
    section: 'Timeouts',
    flags: ['--shutdown-delay'],
    type: duration,
    default: 0,
    doc: "After SIGTERM, keep serving for this long, with readiness already 'draining', before the graceful stop begins: time for a load balancer (a Kubernetes Service) to stop sending new requests.",
  }),
  header_timeout: setting({
    section: 'Timeouts',
    flags: ['--header-timeout'],
    type: duration,
    default: 30,
    doc: "How long a client has to send a request's head (request line and headers) once it starts one, and a new connection its first request or its PROXY protocol header: past it the client gets 408 and the connection closes. A slow client waiting on it holds a file descriptor, never a Python thread. Also bounds each head after the first on a keep-alive connection (the wait between requests is keep_alive). 0 turns it off.",
  }),
  keep_alive: setting({
    section: 'Timeouts',
    flags: ['--keep-alive', '--timeout-keep-alive'],
    type: duration,
    default: 5,
    doc: 'How long an idle keep-alive connection stays open.',
  }),
  max_requests: setting({
    section: 'Workers',
    flags: ['--max-requests', '--limit-max-requests'],
    type: integer(0),
    default: 0,
    doc: 'Replace a worker after this many requests (0: never); the new one is ready before the old one stops taking connections.',
  }),
  max_requests_jitter: setting({
    section: 'Workers',
    flags: ['--max-requests-jitter', '--limit-max-requests-jitter'],
    type: integer(0),
    default: 0,
    doc: 'Add up to this many requests at random to max_requests, so workers do not restart together.',
  }),
  max_rss: setting({
    section: 'Workers',
    flags: ['--max-rss'],
    type: integer(0, '<MiB>'),
    default: 0,
    doc: 'Replace a worker once its app process (the Python process; the worker itself for a JavaScript app) has more resident memory than this many MiB (0: never). Checked every few seconds.',
  }),
  max_worker_lifetime: setting({
    section: 'Workers',
    flags: ['--max-worker-lifetime'],
    type: duration,
    default: 0,
    doc: 'Replace a worker once it has run this long (0: never).',
  }),
  restart_delay: setting({
    section: 'Workers',
    flags: ['--restart-delay'],
    type: duration,
    default: 0.1,
    doc: 'Wait before retrying a worker that could not boot; doubles with each boot failure within restart_window, up to 30 s. A worker that served and died is replaced at once (only one that dies sooner after its boot than its boot took waits the difference).',
  }),
  max_restarts: setting({
    section: 'Workers',
    flags: ['--max-restarts'],
    type: integer(0),
    default: 5,
    doc: "More boot failures than this within restart_window, while no worker serves, stop bicorn with the boot's exit code (3, or 4 when the app failed to load). A worker that served and died never stops bicorn.",
  }),
  restart_window: setting({
    section: 'Workers',
    flags: ['--restart-window'],
    type: duration,
    default: 60,
    doc: 'The window in which max_restarts boot failures are counted.',
  }),
  reload: setting({
    section: 'Reload',
    flags: ['--reload'],
    type: flag,
    default: false,
    doc: 'Development: reload the workers when a watched file changes; an app that fails to load answers 500 with its traceback until the next change.',
  }),
  reload_dirs: setting({
    section: 'Reload',
    flags: ['--reload-dir'],
    type: list(text('<dir>')),
    default: [],
    doc: "Directories to watch with --reload, besides chdir, pythonpath and the JavaScript app's folder; repeatable.",
  }),
  reload_include: setting({
    section: 'Reload',
    flags: ['--reload-include'],
    type: list(text('<glob>')),
    default: [],
    doc: 'With --reload, also watch files matching this glob (besides *.py, *.js, *.mjs, *.cjs, *.ts and the config file); repeatable.',
  }),
  reload_exclude: setting({
    section: 'Reload',
    flags: ['--reload-exclude'],
    type: list(text('<glob>')),
    default: [],
    doc: 'With --reload, ignore files matching this glob (besides dot files and folders, node_modules, __pycache__, *.pyc and *~); repeatable.',
  }),
  log_level: setting({
    section: 'Logging',
    flags: ['--log-level'],
    type: choiceWithAliases(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { critical: 'fatal', warning: 'warn' }),
    default: 'info',
    doc: "The least severe log level written. gunicorn's and uvicorn's names (`critical`, `warning`) work too, in any case.",
  }),
  log_format: setting({
    section: 'Logging',
    flags: ['--log-format'],
    type: choice(['auto', 'json', 'pretty']),
    default: 'auto',
    doc: 'JSON lines, or one readable line per entry; `auto` is pretty on a terminal, JSON otherwise.',
  }),
  access_log: setting({
    section: 'Logging',
    flags: ['--access-logfile'],
    type: optional(text('<file|->')),
    default: null,
    doc: "Write one line per request to this file, `-` for stdout (default: no access log, as in gunicorn). uvicorn's `--access-log` means `-` unless a file is named, and `--no-access-log` none.",
  }),
  access_log_format: setting({
    section: 'Logging',
    flags: ['--access-logformat'],
    type: optional(text('<format|json>')),
    default: null,
    doc: 'The access line: gunicorn\'s atoms, such as `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"` (also `%(m)s %(U)s %(q)s %(H)s %(B)s %(T)s %(D)s %(M)s %(L)s %(p)s`, `%({header}i)s`, `%({header}o)s` and `%({VAR}e)s` for the CGI variables of the request; `%({bicorn.static}e)s` is `static` for a file served by --static, else `-`), or `json` for one JSON object per line. Default: JSON lines when the log format is JSON, else a short readable line. The client address (`h`) is the one a trusted proxy forwarded.',
  }),
  error_log: setting({
    section: 'Logging',
    flags: ['--error-logfile', '--log-file'],
    type: text('<file|->'),
    default: '-',
    doc: 'Where the server log goes: a file, or `-` for stdout.',
  }),
  pid: setting({
    section: 'Process',
    flags: ['-p', '--pid'],
    type: optional(text('<file>')),
    default: null,
    doc: "Write the master's PID to this file once it is ready, and remove it on exit. A file naming a live process stops a second master from starting; a stale one is replaced.",
  }),
  user: setting({
    section: 'Process',
    flags: ['-u', '--user'],
    type: optional(text('<user>', accountName)),
    default: null,
    doc: 'Run workers, and their Python processes, as this user (name or uid). The master starts as root, binds the sockets (ports below 1024 work) and opens the log files for this user, then forks the workers as this user. Running as root without it logs a warning.',
  }),
  group: setting({
    section: 'Process',
    flags: ['-g', '--group'],
    type: optional(text('<group>', accountName)),
    default: null,
    doc: "Run workers as this group (name or gid); default: the user's primary group. Supplementary groups are dropped.",
  }),
  umask: setting({
    section: 'Process',
    flags: ['-m', '--umask'],
    type: optional(fileMode),
    default: null,
    doc: 'The umask of bicorn, its workers and their Python processes, in octal: it shapes the files the app and bicorn create (log and pid files; unix sockets get socket_mode). Default: the umask bicorn was started with.',
  }),
  forwarded_allow_ips: setting({
    section: 'Proxy',
    flags: ['--forwarded-allow-ips'],
    env: ['FORWARDED_ALLOW_IPS'],
    type: peerList,
    default: ['127.0.0.1', '::1'],
    doc: 'Proxies trusted to set X-Forwarded-For and X-Forwarded-Proto (and forwarder_headers): addresses, CIDR networks, or `*` for any peer. Peers on unix sockets are always trusted. From a peer not listed, the headers reach the app untouched and change nothing.',
  }),
  proxy_headers: setting({
    section: 'Proxy',
    flags: ['--proxy-headers', '--no-proxy-headers'],
    type: flag,
    default: true,
    doc: "Take the client's address from X-Forwarded-For and the scheme from X-Forwarded-Proto when a trusted proxy (forwarded_allow_ips) sends them: the rightmost address not itself trusted is the client (the leftmost with `*`). `--no-proxy-headers` turns every forwarded header off. Node request listeners are left to their own trust settings (Express's `trust proxy`).",
  }),
  forwarder_headers: setting({
    section: 'Proxy',
    flags: ['--forwarder-headers'],
    type: list(forwarderHeader, { commasEverywhere: true }),
    default: [],
    doc: "More forwarded headers to take from trusted proxies, besides X-Forwarded-For and -Proto: X-Forwarded-Host (the Host the app sees), X-Forwarded-Port, X-Forwarded-Prefix (the root path) and RFC 7239 Forwarded (for, proto and host; it wins over the X-Forwarded ones). Only for a proxy that sets them itself: one that passes a client's own header through lets the client choose the Host your app builds URLs with. gunicorn's values of the same setting (environ keys such as SCRIPT_NAME, copied from headers of that name) are refused: for a path prefix, have the proxy send X-Forwarded-Prefix.",
  }),
  proxy_protocol: setting({
    section: 'Proxy',
    flags: ['--proxy-protocol'],
    type: choiceOrBare(['off', 'v1', 'v2', 'auto'], 'auto'),
    default: 'off',
    doc: "HAProxy's PROXY protocol on every bind: connections from proxy_allow_ips must start with a v1 (text) or v2 (binary) header, as chosen (`auto`, or the flag alone: either), whose source address becomes the client's (the Node interface's `req.socket.remoteAddress` too); a missing or malformed header closes the connection, and so does a header from any other peer, which is served as plain HTTP. The health bind never expects it.",
  }),
  proxy_allow_ips: setting({
    section: 'Proxy',
    flags: ['--proxy-allow-from'],
    type: peerList,
    default: ['127.0.0.1', '::1'],
    doc: 'Peers allowed to send the PROXY protocol header: addresses, CIDR networks, or `*`. Peers on unix sockets are always allowed.',
  }),
  limit_request_line: setting({
    section: 'Limits',
    flags: ['--limit-request-line'],
    type: integer(0, '<bytes>'),
    default: 4094,
    doc: 'The longest request line accepted (method, target and version, without the CRLF); a longer one gets 414. 0: no limit of its own, only the cap on the whole head (limit_request_fields).',
  }),
  limit_request_fields: setting({
    section: 'Limits',
    flags: ['--limit-request-fields'],
    type: integer(0),
    default: 100,
    doc: "The most header fields a request may have; more gets 431, never a request with some dropped. With limit_request_line and limit_request_field_size it sets node's cap on a whole head (line + fields × field size: past it 414 or 431 as the head arrives); a limit at 0 has no bound of its own, and its part of that cap is 1 MiB.",
  }),
  limit_request_field_size: setting({
    section: 'Limits',
    flags: ['--limit-request-field_size', '--limit-request-field-size'],
    type: integer(0, '<bytes>'),
    default: 8190,
    doc: 'The largest header field accepted, counted as `Name: value` and its CRLF; a larger one gets 431. 0: no limit of its own below the cap on the whole head.',
  }),
  limit_request_body: setting({
    section: 'Limits',
    flags: ['--limit-request-body'],
    type: optional(integer(0, '<bytes>')),
    default: null,
    doc: 'The largest request body accepted: a larger Content-Length gets 413 before the app sees the request (instead of 100 Continue when the client expects one), and a chunked body is cut with 413 once it passes the limit. Also caps WebSocket messages (with ws_max_size, the lower wins). Default: no limit.',
  }),
  limit_concurrency: setting({
    section: 'Limits',
    flags: ['--limit-concurrency'],
    type: optional(integer(1)),
    default: null,
    doc: 'The most requests in flight per worker, open WebSockets included; past it a request gets 503 with `Retry-After: 1` and its connection closes. Default: no limit.',
  }),
  server_header: setting({
    section: 'TLS and HTTP',
    flags: ['--server-header', '--no-server-header'],
    type: flag,
    default: true,
    doc: 'Send `Server: bicorn` with every response whose app set no Server header; `--no-server-header` sends none.',
  }),
  date_header: setting({
    section: 'TLS and HTTP',
    flags: ['--date-header', '--no-date-header'],
    type: flag,
    default: true,
    doc: 'Send a Date header with every response whose app set none; `--no-date-header` sends none.',
  }),
  headers: setting({
    section: 'TLS and HTTP',
    flags: ['--header'],
    type: list(text('<Name:Value>', headerLine)),
    default: [],
    doc: "A header sent with every response, as `Name:Value`, unless the app sets that name itself; repeatable.",
  }),
  certfile: setting({
    section: 'TLS and HTTP',
    flags: ['--certfile', '--ssl-certfile'],
    type: optional(text('<file>')),
    default: null,
    doc: "TLS certificate chain (PEM: the server's certificate first, then the intermediates); with keyfile, every TCP bind serves HTTPS (unix: binds stay plain HTTP, for a proxy on the same machine). The master reads it (and keyfile and ca_certs), so root-only files work, and reads them again on every reload (SIGHUP): a renewed certificate is served by the new workers while the old ones finish their connections; one that fails to load is an error at start (exit 2) and, at a reload, is logged and the one in use kept.",
  }),
  keyfile: setting({
    section: 'TLS and HTTP',
    flags: ['--keyfile', '--ssl-keyfile'],
    type: optional(text('<file>')),
    default: null,
    doc: 'The private key of certfile (PEM); needed with certfile.',
  }),
  keyfile_password: setting({
    section: 'TLS and HTTP',
    flags: ['--ssl-keyfile-password'],
    type: optional(text('<password>')),
    default: null,
    doc: 'The password of an encrypted keyfile. A command line is visible to every user of the machine: prefer BICORN_KEYFILE_PASSWORD, or a config file only the service can read.',
  }),
  ca_certs: setting({
    section: 'TLS and HTTP',
    flags: ['--ca-certs', '--ssl-ca-certs'],
    type: optional(text('<file>')),
    default: null,
    doc: 'The CA certificates (PEM) that client certificates are checked against, for cert_reqs 1 or 2 (mutual TLS).',
  }),
  cert_reqs: setting({
    section: 'TLS and HTTP',
    flags: ['--cert-reqs', '--ssl-cert-reqs'],
    type: certRequirement,
    default: 0,
    doc: "Client certificates, as Python's ssl module numbers them: 0 none asked for; 1 asked for, and checked against ca_certs when the client sends one (a client may send none); 2 required and checked (mutual TLS; a client without one fails the handshake). The app sees a verified certificate: ASGI's `tls` extension, WSGI's `SSL_CLIENT_CERT` and `SSL_CLIENT_VERIFY`.",
  }),
  ciphers: setting({
    section: 'TLS and HTTP',
    flags: ['--ciphers', '--ssl-ciphers'],
    type: optional(text('<openssl-cipher-list>')),
    default: null,
    doc: "The TLS 1.2 cipher suites offered, as an OpenSSL cipher list (`ECDHE+AESGCM:ECDHE+CHACHA20`); TLS 1.3's suites are OpenSSL's. Default: Node.js's list, which has no known-weak suite.",
  }),
  tls_min_version: setting({
    section: 'TLS and HTTP',
    flags: ['--tls-min-version'],
    type: choice(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']),
    default: 'TLSv1.2',
    doc: 'The oldest TLS version a client may use. TLS 1.0 and 1.1 also need ciphers that OpenSSL still allows at its security level.',
  }),
  ssl_version: setting({
    section: 'TLS and HTTP',
    flags: ['--ssl-version'],
    type: optional(sslVersion),
    default: null,
    doc: "Deprecated (as in gunicorn and uvicorn): Python's ssl protocol, by number or name, read as a minimum TLS version in place of tls_min_version, with a warning at start. `2`, `17`, `TLS`, `TLS_SERVER`, `SSLv23` (any version): tls_min_version applies; `3`/`TLSv1`, `4`/`TLSv1_1`, `5`/`TLSv1_2`: at least that version.",
  }),
  http_protocols: setting({
    section: 'TLS and HTTP',
    flags: ['--http-protocols'],
    type: choice(['h1', 'h2,h1', 'h1,h2', 'h2']),
    default: 'h1',
    doc: "The HTTP versions served, in order of preference, as in gunicorn 27: `h2,h1` offers HTTP/2 by ALPN on TLS binds and serves HTTP/1.1 to clients that do not ask for it (`h1,h2`: HTTP/1.1 to a client that offers both); `h2` alone closes connections that do not speak HTTP/2. HTTP/2 without TLS is http2_cleartext's. Node request listeners (`--interface node`, an Express app) get HTTP/1.1 by ALPN unless this is `h2`: Node.js's HTTP/2 compatibility objects break Express. WebSockets stay on HTTP/1.1. uvicorn's `--http2` means `h2,h1`.",
  }),
  http2_cleartext: setting({
    section: 'TLS and HTTP',
    flags: ['--http2-cleartext'],
    type: http2Cleartext,
    default: 'off',
    doc: "HTTP/2 without TLS (h2c), on the binds without TLS: `prior-knowledge` serves it to clients that start with the HTTP/2 preface (`curl --http2-prior-knowledge`, gRPC, a proxy such as nginx's grpc_pass), beside HTTP/1.1 on the same bind; http_protocols must list h2. gunicorn's `upgrade` and `both` are refused: Node.js has no API for h2c by an Upgrade header.",
  }),
  http2_max_concurrent_streams: setting({
    section: 'TLS and HTTP',
    flags: ['--http2-max-concurrent-streams'],
    type: integer(1, '<n>', 2 ** 32 - 1),
    default: 100,
    doc: 'The most HTTP/2 streams (requests) a client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); a client that opens more gets them refused.',
  }),
  http2_initial_window_size: setting({
    section: 'TLS and HTTP',
    flags: ['--http2-initial-window-size'],
    type: integer(1, '<bytes>', 2 ** 31 - 1),
    default: 65_535,
    doc: "HTTP/2's initial flow-control window of each stream: how much of a request body the client may send before the app reads it.",
  }),
  http2_max_frame_size: setting({
    section: 'TLS and HTTP',
    flags: ['--http2-max-frame-size'],
    type: integer(16_384, '<bytes>', 2 ** 24 - 1),
    default: 16_384,
    doc: 'The largest HTTP/2 frame payload bicorn accepts (16384 to 16777215).',
  }),
  http2_max_header_list_size: setting({
    section: 'TLS and HTTP',
    flags: ['--http2-max-header-list-size'],
    type: integer(1, '<bytes>', 2 ** 32 - 1),
    default: 65_536,
    doc: "The largest request head accepted on HTTP/2, decompressed (HPACK's protection); the limit_request_* limits apply too.",
  }),
  static: setting({
    section: 'Static files',
    flags: ['--static'],
    type: list(staticMount),
    default: [],
    doc: "Serve the files of DIRECTORY (relative to chdir; it must exist at start) under URL_PREFIX from the worker, before the app is asked: `--static /static/=staticfiles` for Django's collectstatic. GET and HEAD only; any other method, and a path with no file, go to the app. Conditional and Range requests, precompressed `.br`/`.gz` siblings chosen by Accept-Encoding, and no dot files (except `/.well-known/`), listings or paths out of the directory (400 or 404). The prefix is matched after root_path is taken off. Repeatable; a changed file is seen within a second.",
  }),
  static_max_age: setting({
    section: 'Static files',
    flags: ['--static-max-age'],
    type: duration,
    default: 60,
    doc: 'Cache-Control max-age of static files whose names carry no content hash; 0 sends `no-cache`.',
  }),
  static_hashed_max_age: setting({
    section: 'Static files',
    flags: ['--static-hashed-max-age'],
    type: duration,
    default: 31_536_000,
    doc: "Cache-Control max-age (with `immutable`) of static files whose names carry a content hash: those in Django's `staticfiles.json` manifest when the directory has one, else names such as `app.0123456789ab.css` (Django, webpack, Parcel: 8 to 32 hex digits between dots) or `assets/app-D4x_9Lqa.js` (Vite).",
  }),
  static_cors: setting({
    section: 'Static files',
    flags: ['--static-cors'],
    type: optional(corsOrigin),
    default: null,
    doc: 'Send `Access-Control-Allow-Origin` with this value (`*` or an origin) on static files: for fonts loaded from another origin (WhiteNoise sends `*`).',
  }),
  static_follow_symlinks: setting({
    section: 'Static files',
    flags: ['--static-follow-symlinks'],
    type: flag,
    default: false,
    doc: 'Serve symlinks that point out of the static directory (as `collectstatic --link` makes); without it they are refused with 404.',
  }),
  // Deployment (bicorn check --deploy).
  tls_upstream: setting({
    section: 'Proxy',
    flags: ['--tls-upstream'],
    type: flag,
    default: false,
    doc: 'Says that TLS ends in front of bicorn (an ingress, a load balancer, a proxy), so `bicorn check --deploy` accepts a plain-HTTP bind on a public address. It changes nothing at runtime.',
  }),
  health_bind: setting({
    section: 'Metrics',
    flags: ['--health-bind'],
    type: optional(tcpAddress),
    default: null,
    doc: "Serve health endpoints from the master on this address: `/livez` (200 while it runs) and `/readyz` (200 while serving; 503 while starting, and while draining, from SIGTERM on, through shutdown_delay). For Kubernetes probes and load balancers.",
  }),
  // Operations: metrics, the control socket and the shape of JSON logs.
  metrics_bind: setting({
    section: 'Metrics',
    flags: ['--metrics-bind'],
    type: optional(tcpAddress),
    default: null,
    doc: 'Serve Prometheus metrics from the master on this address, at `/metrics`: requests, durations, bytes, workers, restarts, reloads and the Python processes, over all workers (see the README). Separate from health_bind.',
  }),
  statsd_host: setting({
    section: 'Metrics',
    flags: ['--statsd-host'],
    type: optional(statsdAddress),
    default: null,
    doc: "Send StatsD metrics under gunicorn's names, so its dashboards keep working: from each worker, per request, `gunicorn.requests` and `gunicorn.request.status.<code>` (counters) and `gunicorn.request.duration` (a timer, in ms); from the master, `gunicorn.workers` (a gauge, every second); from both, `gunicorn.log.warning`, `gunicorn.log.error` and `gunicorn.log.critical` for each such log line. Over UDP to `host:port` (port 8125 when left out), or to a unix datagram socket with `unix:PATH`; metrics of one moment share a datagram, one per line. Counted where the Prometheus metrics (metrics_bind) are, once.",
  }),
  statsd_prefix: setting({
    section: 'Metrics',
    flags: ['--statsd-prefix'],
    type: optional(text('<prefix>')),
    default: null,
    doc: 'Put this before every StatsD metric name, with one dot between (`myapp` sends `myapp.gunicorn.requests`), as gunicorn does.',
  }),
  dogstatsd_tags: setting({
    section: 'Metrics',
    flags: ['--dogstatsd-tags'],
    type: optional(text('<tags>')),
    default: null,
    doc: 'DogStatsD tags added to every StatsD metric, as Datadog reads them: `env:prod,service:shop` is sent as `|#env:prod,service:shop`.',
  }),
  control_socket: setting({
    section: 'Process',
    flags: ['--control-socket'],
    type: optional(text('<path>')),
    default: null,
    doc: "The unix socket that `bicorn status`, `reload`, `stop`, `scale` and `reopen-logs` talk to. Default: beside the pid file (`app.pid` gives `app.ctl`), else `$XDG_RUNTIME_DIR/bicorn.ctl`; without either, or when that folder is not writable, there is none (an info line says so). Whoever can connect can stop the server: see control_socket_mode.",
  }),
  control_socket_mode: setting({
    section: 'Process',
    flags: ['--control-socket-mode'],
    type: fileMode,
    default: 0o600,
    doc: "The permission bits of the control socket, in octal. Connecting needs write permission on it (and search permission on its folder); bicorn cannot check who connects, so the mode and the folder are the whole access control.",
  }),
  no_control_socket: setting({
    section: 'Process',
    flags: ['--no-control-socket'],
    type: flag,
    default: false,
    doc: 'Run without a control socket.',
  }),
  log_json_style: setting({
    section: 'Logging',
    flags: ['--log-json-style'],
    type: choice(['bicorn', 'ecs', 'gcp', 'datadog', 'pino']),
    default: 'bicorn',
    doc: "The field names of JSON log lines (server and access logs), for the shipper that reads them. `bicorn`: `time` (ISO 8601), `level` (a name), `msg`. `ecs` (Elastic): `@timestamp`, `log.level`, `message`, `ecs.version`. `gcp` (Cloud Logging): `time`, `severity`, `message`. `datadog`: `timestamp`, `status` (the level), `message`, and an access line's status as `http.status_code`. `pino`: `time` in milliseconds, `level` a number, `msg`.",
  }),
  // Drop-in: gunicorn's and uvicorn's flags that needed a setting of their own (issue 17).
  factory: setting({
    section: 'Application',
    flags: ['--factory'],
    type: flag,
    default: false,
    doc: "Python apps: the app names a factory, which is called without arguments to make the app, as in uvicorn. Without it, a plain function that takes no arguments is called too, with a warning; gunicorn's `module:create_app()` (with arguments, if any) works either way.",
  }),
  use_colors: setting({
    section: 'Logging',
    flags: ['--use-colors', '--no-use-colors'],
    type: optional(flag),
    default: null,
    doc: 'Colour the pretty log lines; default: when they go to a terminal.',
  }),
  initgroups: setting({
    section: 'Process',
    flags: ['--initgroups'],
    type: flag,
    default: false,
    doc: "With user, give the workers (and their Python processes) the user's supplementary groups too, as in gunicorn; without it they have only group.",
  }),
  reload_extra_files: setting({
    section: 'Reload',
    flags: ['--reload-extra-file'],
    type: list(text('<file>')),
    default: [],
    doc: 'With --reload, also reload when this file changes, wherever it is (templates, settings files); repeatable.',
  }),
  // Drop-in, part 2 (issue 18): gunicorn.conf.py and its hooks, gevent, process names, daemon.
  gunicorn_config: setting({
    section: 'Python',
    flags: [],
    type: optional(text('<file|python:module>')),
    default: null,
    doc: "A gunicorn config file, run by the app's Python (the same interpreter as the app): `-c gunicorn.conf.py`, `-c python:module`, or `./gunicorn.conf.py` when no config file is given and no `bicorn.config.*` is found, as gunicorn reads it. Its plain values are settings under gunicorn's names, ranked as a config file; its server hooks run: post_fork, post_worker_init, pre_request, post_request, worker_int, worker_abort and worker_exit in each worker's Python process, on_starting, when_ready, on_reload, pre_fork, child_exit, nworkers_changed and on_exit in a Python process the master starts for them (see hook_timeout).",
  }),
  hook_timeout: setting({
    section: 'Python',
    flags: ['--hook-timeout'],
    type: duration,
    default: 30,
    doc: "The longest a master-side server hook of the gunicorn config may run; past it the hook's process is killed (and started again for the next hook). on_starting delays the start and on_exit the exit by at most this much; the other master hooks never hold up the master. 0: no limit.",
  }),
  wsgi_concurrency: setting({
    section: 'Python',
    flags: ['--wsgi-concurrency'],
    type: choice(['threads', 'gevent']),
    default: 'threads',
    doc: "How a WSGI app's Python process runs requests at once: on `threads` (--threads of them), or on `gevent` greenlets (worker_connections of them, with the standard library monkey-patched before anything is imported; gevent must be installed in the app's environment). gunicorn's `-k gevent` sets it.",
  }),
  worker_connections: setting({
    section: 'Python',
    flags: ['--worker-connections'],
    type: integer(1),
    default: 1000,
    doc: 'With wsgi_concurrency gevent: the most requests a worker\'s Python process runs at once, each on a greenlet. (A worker takes any number of connections; limit_concurrency caps requests in flight.)',
  }),
  log_config: setting({
    section: 'Logging',
    flags: ['--log-config', '--log-config-json'],
    type: optional(text('<file>')),
    default: null,
    doc: "Configure the Python app's logging from this file before the app is imported: a dictConfig in JSON (`.json`) or YAML (`.yaml`, `.yml`, with PyYAML), else a fileConfig INI, as uvicorn and gunicorn read it (gunicorn's `--log-config-json` too). Without it, a gunicorn config's `logconfig_dict` applies. bicorn's own log is error_log's.",
  }),
  proc_name: setting({
    section: 'Process',
    flags: ['-n', '--name'],
    type: optional(text('<name>')),
    default: null,
    doc: "Set the process titles `ps` shows: `bicorn: master [NAME]`, `bicorn: worker [NAME]`, `bicorn: python [NAME]` and `bicorn: hooks [NAME]` (the Python ones with setproctitle when the app's environment has it, else the first 15 bytes, which `ps -o comm` and `top` show).",
  }),
  daemon: setting({
    section: 'Process',
    flags: ['-D', '--daemon'],
    type: flag,
    default: false,
    doc: "Detach from the terminal: bicorn starts itself again in the background, in a new session, and the command returns once that master serves (exit 0), or with its exit code when it cannot start. The pid file, if any, names the detached master (for systemd's Type=forking with PIDFile=). Its log goes to error_log (stdout and stderr are /dev/null): give a file.",
  }),
};

export type Settings = typeof settings;
export type SettingKey = keyof Settings;

type ValueOf<S> = S extends Setting<infer T, unknown> ? T : never;
type InputOf<S> = S extends Setting<unknown, infer I> ? I : never;

/** The resolved, validated, frozen configuration. */
export type Config = { readonly [K in SettingKey]: ValueOf<Settings[K]> };

/** What a config file or `defineConfig()` may give: any subset of settings. */
export type ConfigInput = { readonly [K in SettingKey]?: InputOf<Settings[K]> };

export const settingKeys = Object.keys(settings) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settings, key);
}

export function envNames(key: SettingKey): readonly string[] {
  const declared: Setting<unknown, unknown> = settings[key];
  return [`BICORN_${key.toUpperCase()}`, ...(declared.env ?? [])];
}

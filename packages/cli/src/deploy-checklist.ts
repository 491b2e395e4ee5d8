// The deployment checklist of `bicorn check --deploy`: one small pure rule per point, each reading
// the frozen config (with where each value came from) and the facts gathered at the edge
// (deploy-check.ts), each returning its findings. A new point is a new rule in `rules`.
import { describeSource, parseBind, staticMounts, type LoadedConfig, type SettingKey } from '@bicorn/config';
import { relative, resolve } from 'node:path';
import type { DjangoFacts, DjangoLevel } from './django-check.js';
import { STOP_SLACK_S } from './systemd-unit.js';
import type { Cpus, RunAs, StopDeadline } from './supervisor-files.js';

type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly severity: Severity;
  /** A stable name for the point, as Django's check ids: `reload`, `django:security.W004`. */
  readonly id: string;
  readonly message: string;
  readonly fix: string;
}

export interface DeployFacts {
  /** Who the master runs as: the pod's securityContext, the unit's User=, or this process. */
  readonly runAs: RunAs;
  readonly cpus: Cpus;
  /** The stop deadlines of the supervisors named with --systemd-unit and --kubernetes. */
  readonly stopDeadlines: readonly StopDeadline[];
  readonly django: DjangoFacts;
}

interface ChecklistInput {
  readonly loaded: LoadedConfig;
  readonly facts: DeployFacts;
}

type Rule = (input: ChecklistInput) => Finding[];

/** Workers per CPU outside this range is "far above or below the cores". */
const MOST_WORKERS_PER_CPU = 4;
const FEWEST_WORKERS_PER_CPU = 0.5;

const from = ({ loaded }: ChecklistInput, key: SettingKey): string => `from ${describeSource(loaded.sources[key])}`;
const finding = (severity: Severity, id: string, message: string, fix: string): Finding => ({ severity, id, message, fix });

const runsAsRoot: Rule = (input) => {
  const { config } = input.loaded;
  const { runAs } = input.facts;
  if (config.user !== null || runAs.root === false) return [];
  if (runAs.root === true) {
    return [finding('error', 'root', `the workers, and so the app, run as root (${runAs.from}) and user is unset`, 'set user (and group) so that bicorn runs the workers unprivileged, or start bicorn itself as an unprivileged user')];
  }
  return [finding('warning', 'root', `nothing says the container runs as non-root (${runAs.from}) and user is unset`, 'set securityContext.runAsNonRoot: true and runAsUser in the pod, with a non-root USER in the image')];
};

const reloadOn: Rule = (input) =>
  input.loaded.config.reload
    ? [finding('warning', 'reload', `reload is on (${from(input, 'reload')}): it is for development; it watches the files and serves a failing app's traceback`, 'leave reload unset in production; deploy new code with a reload (SIGHUP) or a rollout')]
    : [];

const debugLogs: Rule = (input) => {
  const level = input.loaded.config.log_level;
  return level === 'debug' || level === 'trace'
    ? [finding('warning', 'log-level', `log_level is ${level} (${from(input, 'log_level')}): it logs bicorn's internals at length`, 'use info (the default) or warn in production')]
    : [];
};

const publicPlainHttp: Rule = (input) => {
  const { config } = input.loaded;
  if (config.certfile !== null || config.tls_upstream || namesProxies(config.forwarded_allow_ips)) return [];
  const ways = [
    'serve HTTPS (certfile and keyfile)',
    'set tls_upstream when a load balancer, ingress or proxy in front ends TLS',
    "name that proxy's addresses (or the pod network) in forwarded_allow_ips",
    'or bind a loopback address or a unix socket behind a local proxy',
  ];
  return publicBinds(input).map((bind) =>
    finding('warning', 'plain-http', `bind ${bind} (${from(input, 'bind')}) is a public address and serves plain HTTP, and nothing says TLS ends in front of it`, ways.join('; ')),
  );
};

const forwardedFromAnyone: Rule = (input) => {
  const { config } = input.loaded;
  const [bind] = publicBinds(input);
  return config.forwarded_allow_ips.includes('*') && bind !== undefined
    ? [finding('error', 'forwarded-all', `forwarded_allow_ips is * (${from(input, 'forwarded_allow_ips')}) and bind ${bind} is public: any client can claim another address or HTTPS with X-Forwarded-* headers`, "name only the proxy's addresses, or the pod network's CIDR")]
    : [];
};

/** Names that are secrets by convention: *_KEY, *_SECRET, *_TOKEN, *PASSWORD*. */
const secretName = /(?:^|_)(?:KEY|SECRET|TOKEN)$|PASSWORD|PASSWD/i;
/** A URL with a password in it: scheme://user:password@host. */
const urlWithPassword = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:[^/@]+@/i;

const literalSecrets: Rule = (input) => {
  const { config, sources, file } = input.loaded;
  const secrets = config.env.flatMap((pair) => {
    const name = pair.slice(0, pair.indexOf('='));
    const value = pair.slice(name.length + 1);
    return value !== '' && (secretName.test(name) || urlWithPassword.test(value)) ? [name] : [];
  });
  const source = sources.env;
  if (secrets.length === 0 || source.kind === 'env' || source.kind === 'default') return [];
  const names = secrets.join(', ');
  const fix = 'pass secrets in the environment bicorn starts with (a Kubernetes Secret, systemd LoadCredential= or EnvironmentFile=), or with --env-file';
  if (source.kind === 'cli') {
    return [finding('error', 'secret', `env (from ${source.flag}) gives ${names} on the command line, where ps, the shell history and unit files show it`, fix)];
  }
  if (file !== undefined && /\.[cm]?js$/.test(file.path)) {
    return [finding('info', 'secret', `env (from ${file.label}) sets ${names}: a JavaScript config file's values arrive computed, so whether they are written in it (rather than read from process.env) is not checked`, 'read secrets from process.env in the file, or pass them with --env-file')];
  }
  return [finding('error', 'secret', `env (from ${source.file}) writes ${names} into the config file`, fix)];
};

const workersForCpus: Rule = (input) => {
  const { workers } = input.loaded.config;
  const { count, from: cpusFrom } = input.facts.cpus;
  if (count === undefined) return [finding('info', 'workers', `workers ${String(workers)} not compared with CPUs: ${cpusFrom}`, 'give the container a CPU request or limit')];
  const cpus = `${formatCount(count)} CPU${count === 1 ? '' : 's'} (${cpusFrom})`;
  const suggested = Math.max(1, Math.round(count * 2));
  if (workers > count * MOST_WORKERS_PER_CPU) {
    return [finding('warning', 'workers', `workers ${String(workers)} (${from(input, 'workers')}) is more than ${String(MOST_WORKERS_PER_CPU)} per CPU for ${cpus}: they contend for the CPU and each costs memory`, `run about 1 to 2 per CPU (workers ${String(suggested)}), and more threads for WSGI apps that wait on I/O`)];
  }
  if (workers < count * FEWEST_WORKERS_PER_CPU) {
    return [finding('warning', 'workers', `workers ${String(workers)} (${from(input, 'workers')}) is fewer than half of ${cpus}: most of the CPUs stay idle`, `run about 1 to 2 per CPU (workers ${String(suggested)}), or ask for fewer CPUs`)];
  }
  return [];
};

const stopDeadlines: Rule = (input) => {
  const { shutdown_delay: delay, graceful_timeout: graceful } = input.loaded.config;
  return input.facts.stopDeadlines.flatMap((deadline) => {
    const needed = deadline.before + delay + graceful;
    if (deadline.seconds > needed) return [];
    const preStop = deadline.before > 0 ? `the preStop hook's ${formatCount(deadline.before)} s + ` : '';
    return [
      finding(
        'error',
        'stop-timeout',
        `${deadline.name} is ${formatCount(deadline.seconds)} s, not more than ${preStop}shutdown_delay ${formatCount(delay)} s + graceful_timeout ${formatCount(graceful)} s: requests still running when it ends are killed`,
        `make it ${String(Math.ceil(needed) + STOP_SLACK_S)} s (${STOP_SLACK_S} s more, as bicorn systemd does), or shorten graceful_timeout`,
      ),
    ];
  });
};

const noAccessLog: Rule = (input) =>
  input.loaded.config.access_log === null
    ? [finding('warning', 'access-log', 'access_log is unset: no line is written per request', 'set access_log to - (stdout, for the container or the journal) or to a file')]
    : [];

const noMetrics: Rule = (input) =>
  input.loaded.config.metrics_bind === null
    ? [finding('warning', 'metrics', 'metrics_bind is unset: nothing exposes request rates, latencies and worker restarts', 'set metrics_bind (such as 0.0.0.0:9100) and scrape /metrics with Prometheus')]
    : [];

const djangoSeverity: Readonly<Record<DjangoLevel, Severity>> = { critical: 'error', error: 'error', warning: 'warning', info: 'info', debug: 'info' };

const djangoChecks: Rule = (input) => {
  const { django } = input.facts;
  switch (django.kind) {
    case 'not-django':
      return [];
    case 'absent':
      return [finding('info', 'django', `Django's own deployment checks did not run: ${django.reason}`, 'run bicorn check --deploy where the project is, as it is deployed (in the image)')];
    case 'failed':
      return [finding('error', 'django', `Django's own deployment checks could not run: ${django.reason}`, 'make `python manage.py check --deploy` run in the app\'s environment')];
    case 'checked':
      return django.issues.map((issue) =>
        finding(djangoSeverity[issue.level], `django:${issue.id}`, `${issue.object === '?' ? '' : `${issue.object}: `}${issue.message}`, issue.hint ?? 'see https://docs.djangoproject.com/en/stable/howto/deployment/checklist/'),
      );
  }
};

/**
 * Django's collected static files exist but no --static mount serves them: with DEBUG off
 * Django serves none, so every stylesheet and script 404s unless a proxy or a CDN has them.
 */
const djangoStaticRoot: Rule = (input) => {
  const { django } = input.facts;
  if (django.kind !== 'checked' || django.statics?.root?.exists !== true) return [];
  const { appDir, root, url } = django.statics;
  // An absolute STATIC_URL is a CDN's or another host's: not this server's to serve.
  if (url !== null && /^([a-z][a-z0-9+.-]*:)?\/\//i.test(url)) return [];
  if (staticMounts(input.loaded.config.static).some((mount) => resolve(appDir, mount.directory) === root.path)) return [];
  const prefix = url === null || url === '' ? '/static/' : `/${url.replace(/^\/+|\/+$/g, '')}/`;
  const directory = relative(appDir, root.path) || '.';
  return [
    finding('warning', 'static-root', `Django's STATIC_ROOT (${root.path}) has collected files, but no static mount serves it: with DEBUG off Django serves none of them`, `add --static ${prefix}=${directory} (static: ["${prefix}=${directory}"] in the config file), or serve that folder from your proxy or CDN`),
  ];
};

/** The checklist, in the order it prints. */
const rules: readonly Rule[] = [runsAsRoot, reloadOn, debugLogs, publicPlainHttp, forwardedFromAnyone, literalSecrets, workersForCpus, stopDeadlines, noAccessLog, noMetrics, djangoChecks, djangoStaticRoot];

export function runChecklist(input: ChecklistInput): Finding[] {
  return rules.flatMap((rule) => rule(input));
}

/** Errors and warnings fail the check; info findings do not. */
export function fails(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity !== 'info');
}

/** TCP binds on an address other machines can reach; unix, fd:// and systemd binds are not judged. */
function publicBinds(input: ChecklistInput): string[] {
  return input.loaded.config.bind.filter((bind) => {
    const target = parseBind(bind);
    return typeof target !== 'string' && target.kind === 'tcp' && !isLoopback(target.host);
  });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** forwarded_allow_ips names proxies: addresses besides loopback ones, and not `*`. */
function namesProxies(allowed: readonly string[]): boolean {
  return !allowed.includes('*') && allowed.some((address) => !isLoopback(address));
}

function formatCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '');
}

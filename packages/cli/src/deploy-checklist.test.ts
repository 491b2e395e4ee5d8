import { resolveConfig, type CliValues, type Config, type Env } from '@bicorn/config';
import { describe, expect, it } from 'vitest';
import { fails, runChecklist, type DeployFacts, type Finding } from './deploy-checklist.js';

/** A deployment that passes: an unprivileged user, 2 CPUs, an access log, metrics, no supervisor files. */
const cleanFacts: DeployFacts = {
  runAs: { root: false, from: 'this process runs as uid 1000' },
  cpus: { count: 2, from: 'test' },
  stopDeadlines: [],
  django: { kind: 'not-django' },
};

const cleanCli: CliValues = {
  app: { value: 'app:app', flag: 'the app argument' },
  access_log: { value: '-', flag: '--access-logfile' },
  metrics_bind: { value: '127.0.0.1:9100', flag: '--metrics-bind' },
  workers: { value: '2', flag: '--workers' },
};

interface Case {
  readonly cli?: CliValues;
  readonly env?: Env;
  readonly file?: { path: string; values: Record<string, unknown> };
  readonly facts?: Partial<DeployFacts>;
  /** Values put in after validation: null for a setting that cleanCli gives (access_log, metrics_bind). */
  readonly later?: Partial<Config>;
}

function check(options: Case = {}): Finding[] {
  const file = options.file === undefined ? undefined : { path: options.file.path, label: options.file.path, values: options.file.values };
  const loaded = resolveConfig({ ...cleanCli, ...options.cli }, options.env ?? {}, file);
  return runChecklist({ loaded: { ...loaded, config: { ...loaded.config, ...options.later } }, facts: { ...cleanFacts, ...options.facts } });
}

const ids = (findings: readonly Finding[]) => findings.map((f) => `${f.severity} ${f.id}`);
const given = (value: unknown, flag = '--flag') => ({ value, flag });

describe('the deployment checklist', () => {
  it('finds nothing in a deployment that follows it', () => {
    expect(check()).toEqual([]);
  });

  it('finds workers that would run as root, unless user is set or the supervisor runs bicorn unprivileged', () => {
    const root = { runAs: { root: true, from: 'this process runs as uid 0' } };
    const [finding] = check({ facts: root });
    expect(finding).toMatchObject({ severity: 'error', id: 'root' });
    expect(finding?.message).toContain('this process runs as uid 0');
    expect(check({ facts: root, cli: { user: given('www-data') } })).toEqual([]);
    expect(ids(check({ facts: { runAs: { root: undefined, from: 'no runAsNonRoot' } } }))).toEqual(['warning root']);
  });

  it('finds reload and a debug log level, naming where they were set', () => {
    const findings = check({ cli: { reload: given(true, '--reload') }, env: { BICORN_LOG_LEVEL: 'debug' } });
    expect(ids(findings)).toEqual(['warning reload', 'warning log-level']);
    expect(findings[0]?.message).toContain('from --reload');
    expect(findings[1]?.message).toContain('from BICORN_LOG_LEVEL');
    expect(check({ cli: { log_level: given('trace') } })).toHaveLength(1);
  });

  it('finds a public plain-HTTP bind unless TLS ends upstream, and leaves loopback and unix binds alone', () => {
    const findings = check({ cli: { bind: given(['0.0.0.0:8000', '[::]:8000', '127.0.0.1:8001', 'unix:/run/app.sock']) } });
    expect(ids(findings)).toEqual(['warning plain-http', 'warning plain-http']);
    expect(findings[1]?.message).toContain('bind [::]:8000');
    expect(findings[0]?.fix).toContain('tls_upstream');
    expect(check({ cli: { bind: given(['0.0.0.0:8000']), tls_upstream: given(true) } })).toEqual([]);
    expect(check({ cli: { bind: given(['localhost:8000']) } })).toEqual([]);
  });

  it('accepts a public bind with TLS, or with the proxies named in forwarded_allow_ips', () => {
    const publicBind = { bind: given(['0.0.0.0:8000']) };
    expect(check({ cli: { ...publicBind, certfile: given('/etc/tls/cert.pem'), keyfile: given('/etc/tls/key.pem') } })).toEqual([]);
    expect(check({ cli: { ...publicBind, forwarded_allow_ips: given(['10.0.0.0/8']) } })).toEqual([]);
    expect(ids(check({ cli: { ...publicBind, forwarded_allow_ips: given(['127.0.0.1', '::1']) } }))).toEqual(['warning plain-http']);
  });

  it('finds forwarded_allow_ips = * on a public bind, and not on a loopback one', () => {
    const findings = check({ cli: { bind: given(['0.0.0.0:8000']), tls_upstream: given(true), forwarded_allow_ips: given(['*']) } });
    expect(ids(findings)).toEqual(['error forwarded-all']);
    expect(check({ cli: { forwarded_allow_ips: given(['*']) } })).toEqual([]);
  });

  it('suggests TLS, tls_upstream, naming the proxies in forwarded_allow_ips, or a loopback bind for a public plain-HTTP bind', () => {
    const [finding] = check({ cli: { bind: given(['0.0.0.0:8000']) } });
    for (const way of ['certfile and keyfile', 'tls_upstream', 'forwarded_allow_ips', 'loopback']) expect(finding?.fix).toContain(way);
  });

  it('finds literal secrets on the command line and in a YAML or JSON config file, and not in the environment', () => {
    const cli = check({ cli: { env: given(['SECRET_KEY=abc', 'DJANGO_SETTINGS_MODULE=mysite.settings', 'DEBUG='], '--env') } });
    expect(ids(cli)).toEqual(['error secret']);
    expect(cli[0]?.message).toContain('gives SECRET_KEY on the command line');
    const env = ['API_TOKEN=t', 'DB_PASSWORD=p', 'AWS_SECRET_ACCESS_KEY=k', 'DATABASE_URL=postgres://app:pw@db/app', 'CACHE_URL=redis://cache:6379/0'];
    const file = check({ file: { path: 'bicorn.config.yaml', values: { env } } });
    expect(ids(file)).toEqual(['error secret']);
    expect(file[0]?.message).toBe('env (from bicorn.config.yaml) writes API_TOKEN, DB_PASSWORD, AWS_SECRET_ACCESS_KEY, DATABASE_URL into the config file');
    expect(check({ env: { BICORN_ENV: 'SECRET_KEY=abc' } })).toEqual([]);
  });

  it('says that a JavaScript config file is not checked for literal secrets, without failing', () => {
    const findings = check({ file: { path: 'bicorn.config.mjs', values: { env: ['SECRET_KEY=abc'] } } });
    expect(ids(findings)).toEqual(['info secret']);
    expect(fails(findings)).toBe(false);
  });

  it('finds workers more than 4 per CPU or fewer than half a CPU, from the CPUs the facts give', () => {
    const twoCpus = { cpus: { count: 2, from: "the cgroup's cpu.max" } };
    expect(check({ cli: { workers: given('8') }, facts: twoCpus })).toEqual([]);
    expect(check({ cli: { workers: given('1') }, facts: twoCpus })).toEqual([]);
    const many = check({ cli: { workers: given('9') }, facts: twoCpus });
    expect(ids(many)).toEqual(['warning workers']);
    expect(many[0]?.message).toContain("2 CPUs (the cgroup's cpu.max)");
    expect(ids(check({ cli: { workers: given('1') }, facts: { cpus: { count: 4, from: 'x' } } }))).toEqual(['warning workers']);
    expect(ids(check({ cli: { workers: given('2') }, facts: { cpus: { count: 0.25, from: 'x' } } }))).toEqual(['warning workers']);
    expect(ids(check({ facts: { cpus: { count: undefined, from: 'no CPU limit' } } }))).toEqual(['info workers']);
  });

  it("finds a supervisor that kills bicorn before shutdown_delay and graceful_timeout are over, counting a preStop hook's time", () => {
    const deadline = (seconds: number, before = 0) => ({ stopDeadlines: [{ name: 'TimeoutStopSec= of app.service', seconds, before }] });
    const timeouts = { graceful_timeout: given('30'), shutdown_delay: given('5') };
    expect(check({ cli: timeouts, facts: deadline(36) })).toEqual([]);
    expect(check({ cli: timeouts, facts: deadline(Infinity) })).toEqual([]);
    const [tooShort] = check({ cli: timeouts, facts: deadline(35) });
    expect(tooShort).toMatchObject({ severity: 'error', id: 'stop-timeout' });
    expect(tooShort?.message).toBe('TimeoutStopSec= of app.service is 35 s, not more than shutdown_delay 5 s + graceful_timeout 30 s: requests still running when it ends are killed');
    expect(tooShort?.fix).toContain('make it 45 s');
    expect(check({ cli: timeouts, facts: deadline(40, 5) })[0]?.message).toContain("the preStop hook's 5 s + shutdown_delay 5 s");
  });

  it('finds a missing access log', () => {
    expect(ids(check({ later: { access_log: null } }))).toEqual(['warning access-log']);
  });

  it('finds missing metrics', () => {
    expect(ids(check({ later: { metrics_bind: null } }))).toEqual(['warning metrics']);
  });

  it("reports Django's own issues with their ids and levels, and a check that could not run as an error", () => {
    const issues = [
      { level: 'warning', id: 'security.W004', object: '?', message: 'You have not set SECURE_HSTS_SECONDS.', hint: undefined },
      { level: 'critical', id: 'security.E100', object: 'mysite', message: 'Bad.', hint: 'Fix it.' },
      { level: 'info', id: 'app.I001', object: '?', message: 'Note.', hint: undefined },
    ] as const;
    const checked = check({ facts: { django: { kind: 'checked', issues, statics: undefined } } });
    expect(ids(checked)).toEqual(['warning django:security.W004', 'error django:security.E100', 'info django:app.I001']);
    expect(checked[1]).toMatchObject({ message: 'mysite: Bad.', fix: 'Fix it.' });
    expect(ids(check({ facts: { django: { kind: 'failed', reason: 'ModuleNotFoundError' } } }))).toEqual(['error django']);
    const absent = check({ facts: { django: { kind: 'absent', reason: 'no manage.py in /app' } } });
    expect(ids(absent)).toEqual(['info django']);
    expect(fails(absent)).toBe(false);
  });

  it("finds Django's collected static files that no static mount serves, unless a CDN's URL links to them", () => {
    const statics = (root: string | null, url: string | null, exists = true) => ({ django: { kind: 'checked', issues: [], statics: { appDir: '/srv/mysite', root: root === null ? null : { path: root, exists }, url } } }) as const;
    const [unserved] = check({ facts: statics('/srv/mysite/staticfiles', '/assets/') });
    expect(unserved).toMatchObject({ severity: 'warning', id: 'static-root', fix: expect.stringContaining('--static /assets/=staticfiles') as unknown });
    expect(check({ facts: statics('/srv/mysite/staticfiles', 'assets') })[0]?.fix).toContain('--static /assets/=staticfiles');
    const mounted = { static: given(['/static/=staticfiles']), chdir: given('/srv/mysite') };
    expect(check({ cli: mounted, facts: statics('/srv/mysite/staticfiles', '/static/') })).toEqual([]);
    expect(check({ cli: { static: given(['/static/=/srv/mysite/staticfiles']) }, facts: statics('/srv/mysite/staticfiles', '/static/') })).toEqual([]);
    expect(check({ facts: statics('/srv/mysite/staticfiles', 'https://cdn.example.com/static/') })).toEqual([]);
    expect(check({ facts: statics('/srv/mysite/staticfiles', '//cdn.example.com/static/') })).toEqual([]);
    // Not collected yet, or no STATIC_ROOT: nothing to serve.
    expect(check({ facts: statics('/srv/mysite/staticfiles', '/static/', false) })).toEqual([]);
    expect(check({ facts: statics(null, '/static/') })).toEqual([]);
  });
});

import { BicornError } from '@bicorn/protocol';
import { describe, expect, it } from 'vitest';
import { resolveConfig, reviveConfig, type CliValues, type PeerValues } from './load.js';
import { describeSource } from './sources.js';

const file = (values: Record<string, unknown>) => ({ path: '/srv/app/bicorn.config.json', label: 'bicorn.config.json', values });

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof BicornError && error.code === 'CONFIG_INVALID') {
      return (error.details as { problems: readonly string[] }).problems;
    }
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('precedence', () => {
  it('takes defaults when nothing is given', () => {
    const { config, sources } = resolveConfig({}, {}, undefined);
    expect(config.workers).toBe(1);
    expect(config.bind).toEqual(['127.0.0.1:8000']);
    expect(sources.workers).toEqual({ kind: 'default' });
  });

  it('prefers the CLI over the environment over the file over the default', () => {
    const cli: CliValues = { workers: { value: '4', flag: '--workers' } };
    const env = { BICORN_WORKERS: '3', BICORN_KEEP_ALIVE: '7' };
    const loaded = resolveConfig(cli, env, file({ workers: 2, keep_alive: 9, graceful_timeout: 11 }));
    expect(loaded.config.workers).toBe(4);
    expect(loaded.sources.workers).toEqual({ kind: 'cli', flag: '--workers' });
    expect(loaded.config.keep_alive).toBe(7);
    expect(loaded.sources.keep_alive).toEqual({ kind: 'env', name: 'BICORN_KEEP_ALIVE' });
    expect(loaded.config.graceful_timeout).toBe(11);
    expect(loaded.sources.graceful_timeout).toEqual({ kind: 'file', file: 'bicorn.config.json' });
  });

  it('reads WEB_CONCURRENCY for workers, below BICORN_WORKERS', () => {
    expect(resolveConfig({}, { WEB_CONCURRENCY: '3' }, undefined).config.workers).toBe(3);
    expect(resolveConfig({}, { WEB_CONCURRENCY: '3', BICORN_WORKERS: '5' }, undefined).config.workers).toBe(5);
  });

  it("ranks gunicorn's and uvicorn's environment below BICORN_* and above WEB_CONCURRENCY and the file", () => {
    const peers: PeerValues = { workers: { value: '6', source: { kind: 'env', name: 'GUNICORN_CMD_ARGS', flag: '--workers' } } };
    const fromPeers = resolveConfig({}, { WEB_CONCURRENCY: '3' }, file({ workers: 2 }), peers);
    expect(fromPeers.config.workers).toBe(6);
    expect(describeSource(fromPeers.sources.workers)).toBe('GUNICORN_CMD_ARGS (--workers)');
    expect(resolveConfig({}, { BICORN_WORKERS: '5', WEB_CONCURRENCY: '3' }, undefined, peers).config.workers).toBe(5);
    expect(resolveConfig({ workers: { value: '4', flag: '--workers' } }, {}, undefined, peers).config.workers).toBe(4);
    expect(resolveConfig({}, { WEB_CONCURRENCY: '3' }, file({ workers: 2 })).config.workers).toBe(3);
  });

  it('freezes the result', () => {
    const { config } = resolveConfig({ bind: { value: ['127.0.0.1:0'], flag: '--bind' } }, {}, undefined);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.bind)).toBe(true);
  });
});

describe('values', () => {
  it('resolves workers "auto" to the CPU count', () => {
    expect(resolveConfig({ workers: { value: 'auto', flag: '-w' } }, {}, undefined).config.workers).toBeGreaterThan(0);
  });

  it('reads durations with units', () => {
    const env = { BICORN_GRACEFUL_TIMEOUT: '1500ms', BICORN_KEEP_ALIVE: '2m' };
    const { config } = resolveConfig({}, env, undefined);
    expect(config.graceful_timeout).toBe(1.5);
    expect(config.keep_alive).toBe(120);
  });

  it("reads gunicorn's and uvicorn's log level names in any case", () => {
    const level = (value: string) => resolveConfig({ log_level: { value, flag: '--log-level' } }, {}, undefined).config.log_level;
    expect([level('WARNING'), level('critical'), level('Info'), level('warn'), level('TRACE')]).toEqual(['warn', 'fatal', 'info', 'warn', 'trace']);
  });

  it("reads uvicorn's asgi3 and asgi2 as asgi", () => {
    expect(resolveConfig({}, { BICORN_INTERFACE: 'asgi3' }, undefined).config.interface).toBe('asgi');
    expect(resolveConfig({ interface: { value: 'asgi2', flag: '--interface' } }, {}, undefined).config.interface).toBe('asgi');
  });

  it("splits gunicorn's --pythonpath on commas, and adds repeated ones", () => {
    const { config } = resolveConfig({ pythonpath: { value: ['src,lib', 'vendor'], flag: '--pythonpath' } }, {}, undefined);
    expect(config.pythonpath).toEqual(['src', 'lib', 'vendor']);
  });

  it('splits list values from the environment on commas', () => {
    const { config } = resolveConfig({}, { BICORN_BIND: '127.0.0.1:0, [::1]:0' }, undefined);
    expect(config.bind).toEqual(['127.0.0.1:0', '[::1]:0']);
  });
});

describe('problems', () => {
  it('names the setting, the env var it came from and what was expected', () => {
    expect(problemsOf(() => resolveConfig({}, { BICORN_WORKERS: 'four' }, undefined))).toEqual([
      'workers (from BICORN_WORKERS): expected a positive integer or "auto", got "four"',
    ]);
  });

  it('names the flag for CLI values', () => {
    expect(problemsOf(() => resolveConfig({ log_level: { value: 'loud', flag: '--log-level' } }, {}, undefined))).toEqual([
      'log_level (from --log-level): expected one of "fatal", "error", "warn", "info", "debug", "trace" (any case; or "critical", "warning"), got "loud"',
    ]);
  });

  it('names the file for file values and reports every problem of a run', () => {
    const problems = problemsOf(() => resolveConfig({}, {}, file({ workers: 0, keep_alive: 'soon', bind: ['nope:99999'] })));
    expect(problems).toEqual([
      'bind (from bicorn.config.json): expected host:port, [v6]:port, unix:/path, fd://N or systemd[:NAME] (port must be 0-65535, got "99999"), got ["nope:99999"]',
      'workers (from bicorn.config.json): expected a positive integer or "auto", got 0',
      'keep_alive (from bicorn.config.json): expected a duration in seconds (30, 2.5) or with a unit (500ms, 30s, 2m), got "soon"',
    ]);
  });

  it("explains that gunicorn's environ keys are not forwarded headers, and what to name instead", () => {
    const [problem = ''] = problemsOf(() => resolveConfig({ forwarder_headers: { value: ['SCRIPT_NAME,PATH_INFO'], flag: '--forwarder-headers' } }, {}, undefined));
    expect(problem).toMatch(/^forwarder_headers \(from --forwarder-headers\): expected one of "x-forwarded-host", .*gunicorn's environ keys \(SCRIPT_NAME, PATH_INFO, REMOTE_USER\).* name x-forwarded-prefix/);
    expect(resolveConfig({ forwarder_headers: { value: ['X-Forwarded-Prefix'], flag: '--forwarder-headers' } }, {}, undefined).config.forwarder_headers).toEqual(['x-forwarded-prefix']);
  });

  it('explains a bad bind address', () => {
    expect(problemsOf(() => resolveConfig({ bind: { value: ['::1:80'], flag: '--bind' } }, {}, undefined))).toEqual([
      'bind (from --bind): expected host:port, [v6]:port, unix:/path, fd://N or systemd[:NAME] (an IPv6 address needs brackets: [::1]:8000), got ["::1:80"]',
    ]);
  });

  it('suggests the closest setting for an unknown file key, also for camelCase', () => {
    expect(problemsOf(() => resolveConfig({}, {}, file({ worker: 2, gracefulTimeout: 3 })))).toEqual([
      'unknown setting "worker" in bicorn.config.json; did you mean workers?',
      'unknown setting "gracefulTimeout" in bicorn.config.json; did you mean graceful_timeout?',
    ]);
  });

  it('reports unknown BICORN_ variables', () => {
    expect(problemsOf(() => resolveConfig({}, { BICORN_WORKRS: '2' }, undefined))).toEqual([
      'unknown environment variable BICORN_WORKRS; did you mean BICORN_WORKERS?',
    ]);
  });

  it('refuses h2c without h2 in http_protocols, and HTTP/2 alone with neither TLS nor h2c', () => {
    expect(problemsOf(() => resolveConfig({ http2_cleartext: { value: 'prior-knowledge', flag: '--http2-cleartext' } }, {}, undefined))).toEqual([
      'http2_cleartext (from --http2-cleartext): serves HTTP/2, which http_protocols (from default) leaves out; set http_protocols to h2,h1',
    ]);
    expect(problemsOf(() => resolveConfig({ http_protocols: { value: 'h2', flag: '--http-protocols' } }, {}, undefined))).toEqual([
      'http_protocols (from --http-protocols): HTTP/2 alone needs TLS (certfile and keyfile) or http2_cleartext prior-knowledge; add h1, or set one of them',
    ]);
    expect(resolveConfig({ http_protocols: { value: 'h2,h1', flag: '--http-protocols' } }, {}, undefined).config.http_protocols).toBe('h2,h1');
  });

  it('keeps the HTTP/2 settings within what the protocol allows', () => {
    expect(problemsOf(() => resolveConfig({ http2_max_frame_size: { value: '16777216', flag: '--http2-max-frame-size' } }, {}, undefined))).toEqual([
      'http2_max_frame_size (from --http2-max-frame-size): expected a whole number from 16384 to 16777215, got "16777216"',
    ]);
  });

  it('refuses a certificate without its key, and client certificates without a CA to check them', () => {
    expect(problemsOf(() => resolveConfig({ certfile: { value: '/etc/b.pem', flag: '--certfile' } }, {}, undefined))).toEqual([
      "certfile (from --certfile): needs keyfile, the certificate's private key",
    ]);
    const tls = { certfile: { value: 'c.pem', flag: '--certfile' }, keyfile: { value: 'k.pem', flag: '--keyfile' } };
    expect(problemsOf(() => resolveConfig({ ...tls, cert_reqs: { value: '2', flag: '--cert-reqs' } }, {}, undefined))).toEqual([
      'cert_reqs (from --cert-reqs): client certificates are checked against ca_certs; set it to the CA file that signs them',
    ]);
    expect(resolveConfig({ ...tls, cert_reqs: { value: 'CERT_REQUIRED', flag: '--ssl-cert-reqs' }, ca_certs: { value: 'ca.pem', flag: '--ca-certs' } }, {}, undefined).config.cert_reqs).toBe(2);
  });

  it("reads gunicorn's and uvicorn's ssl_version as a minimum TLS version, and refuses h2c by Upgrade with the reason", () => {
    const tls = { certfile: { value: 'c.pem', flag: '--certfile' }, keyfile: { value: 'k.pem', flag: '--keyfile' } };
    expect(resolveConfig({ ...tls, ssl_version: { value: '5', flag: '--ssl-version' } }, {}, undefined).config.ssl_version).toBe('TLSv1.2');
    expect(resolveConfig({ ...tls, ssl_version: { value: 'PROTOCOL_TLS_SERVER', flag: '--ssl-version' } }, {}, undefined).config.ssl_version).toBe('any');
    expect(problemsOf(() => resolveConfig({ http2_cleartext: { value: 'upgrade', flag: '--http2-cleartext' } }, {}, undefined))[0]).toMatch(/Node\.js has no API for h2c by an Upgrade header/);
  });

  it('says an empty value may be an unset variable', () => {
    expect(problemsOf(() => resolveConfig({ workers: { value: '', flag: '--workers' } }, {}, undefined))).toEqual([
      'workers (from --workers): expected a positive integer or "auto", got "" (empty: is a variable unset?)',
    ]);
  });

  it('accepts an unimplemented setting given at its default', () => {
    expect(resolveConfig({}, { BICORN_THREADS: '1' }, undefined).config.threads).toBe(1);
  });
});

describe('reviveConfig', () => {
  it('rebuilds the config the master sent', () => {
    const { config } = resolveConfig({ workers: { value: '2', flag: '-w' } }, {}, undefined);
    expect(reviveConfig(JSON.parse(JSON.stringify(config)) as Record<string, unknown>)).toEqual(config);
  });

  it('refuses a damaged one', () => {
    const { config } = resolveConfig({}, {}, undefined);
    expect(problemsOf(() => reviveConfig({ ...config, workers: -1 }))).toEqual([
      'workers (from the master): expected a positive integer or "auto", got -1',
    ]);
  });
});

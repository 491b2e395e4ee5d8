// The proxies people put in front of bicorn, for end-to-end tests: Debian's nginx and HAProxy,
// each started in the foreground from a config written to a temporary folder, listening on a
// free loopback port, and stopped (and waited for) after each test, whether it passed or not.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { pollUntil } from './poll.js';
import { tempDir } from './temp-dir.js';

/** The address proxies listen on: loopback, but not the 127.0.0.1 bicorn trusts by default. */
export const PROXY_HOST = '127.0.0.2';
/** Where test clients connect from, so that the client's address differs from every proxy's. */
export const CLIENT_HOST = '127.0.0.3';

function installed(binary: string, versionFlag: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    const path = join(dir, binary);
    if (spawnSync(path, [versionFlag], { stdio: 'ignore' }).status === 0) return path;
  }
  return undefined;
}

export const nginxBinary = installed('nginx', '-v');
export const haproxyBinary = installed('haproxy', '-v');

/** For the name of a skipped suite: how to get what it needs. */
export const missingNote = (binary: string | undefined, name: string): string => (binary === undefined ? ` (skipped: ${name} is not installed; apt-get install ${name})` : '');

const started = new Set<ChildProcess>();

afterEach(async () => {
  const running = [...started];
  started.clear();
  await Promise.all(running.map((child) => stop(child)));
});

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A port free on PROXY_HOST now; the proxy may still lose it to another process, so callers retry. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, PROXY_HOST, () => {
      const address = probe.address();
      probe.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: PROXY_HOST, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

export interface RunningProxy {
  /** `http://127.0.0.2:port` */
  readonly url: string;
  readonly log: () => string;
}

/**
 * Starts a proxy whose config `configFor(dir, port)` writes, and waits until it accepts
 * connections; a proxy that exits first (its port taken meanwhile) is tried on another port.
 */
async function startProxy(name: string, command: (dir: string, config: string) => [string, string[]], configFor: (dir: string, port: number) => string): Promise<RunningProxy> {
  const dir = tempDir(`bicorn-${name}-`);
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const config = join(dir, `${name}.conf`);
    writeFileSync(config, configFor(dir, port));
    const [binary, args] = command(dir, config);
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const ready = await pollUntil(`${name} to accept connections on port ${String(port)}`, async () => {
      if (child.exitCode !== null) return false;
      return (await accepts(port)) ? true : undefined;
    });
    if (ready) return { url: `http://${PROXY_HOST}:${String(port)}`, log: () => output };
    started.delete(child);
    if (!output.includes('in use')) throw new Error(`${name} exited: ${output}`);
  }
  throw new Error(`${name} lost its port 5 times in a row`);
}

export interface NginxSite {
  /** `proxy_pass` target: `http://127.0.0.1:8000` or `http://unix:/path:`. */
  readonly upstream: string;
  /** Extra `proxy_set_header` lines and the like, inside `location /`. */
  readonly directives: readonly string[];
}

export function startNginx(site: NginxSite): Promise<RunningProxy> {
  const binary = nginxBinary;
  if (binary === undefined) throw new Error('nginx is not installed');
  return startProxy(
    'nginx',
    (dir, config) => [binary, ['-p', dir, '-c', config, '-e', join(dir, 'error.log')]],
    (dir, port) => `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${PROXY_HOST}:${String(port)};
    location / {
      proxy_pass ${site.upstream};
      proxy_http_version 1.1;
${site.directives.map((line) => `      ${line}`).join('\n')}
    }
  }
}
`,
  );
}

export function startHaproxy(backend: string, sendProxy: 'send-proxy' | 'send-proxy-v2'): Promise<RunningProxy> {
  const binary = haproxyBinary;
  if (binary === undefined) throw new Error('haproxy is not installed');
  return startProxy(
    'haproxy',
    (_dir, config) => [binary, ['-db', '-f', config]],
    (_dir, port) => `defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend front
  bind ${PROXY_HOST}:${String(port)}
  default_backend bicorn
backend bicorn
  server app ${backend} ${sendProxy}
`,
  );
}

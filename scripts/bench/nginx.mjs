// nginx in front of gunicorn sync for the slow-client scenario, as gunicorn's docs require:
// a config in a temporary folder (one worker, request bodies buffered, no access log),
// proxying 127.0.0.1:<front> to the backend's port. Runs in the harness process.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, stopProcess } from './processes.mjs';

export function nginxPath() {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

function config(dir, frontPort, backendPort) {
  const temp = (name) => join(dir, name);
  return `worker_processes 1;
daemon off;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  client_max_body_size 100m;
  keepalive_timeout 5s;
  server {
    listen 127.0.0.1:${frontPort};
    location / {
      proxy_pass http://127.0.0.1:${backendPort};
      proxy_set_header Host $host;
      proxy_request_buffering on;
      proxy_buffering on;
    }
  }
}
`;
}

/** Starts nginx on a fresh port in front of `backendPort`; retries when the port is lost. */
export async function startNginx(backendPort, pickPort, waitReady, probe) {
  const binary = nginxPath();
  if (binary === undefined) throw new Error('nginx is not installed (bash scripts/bench/setup.sh installs it)');
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const dir = mkdtempSync(join(tmpdir(), 'bicorn-bench-nginx-'));
    // nginx's workers drop root for nobody, who must reach the temporary folders.
    chmodSync(dir, 0o755);
    for (const name of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      mkdirSync(join(dir, name));
      chmodSync(join(dir, name), 0o777);
    }
    const port = await pickPort();
    writeFileSync(join(dir, 'nginx.conf'), config(dir, port, backendPort));
    const proc = startProcess('nginx', binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { cwd: dir });
    const cleanup = async () => rmSync(dir, { recursive: true, force: true });
    try {
      const state = await waitReady([proc], `http://127.0.0.1:${port}${probe}`);
      if (state === 'ready') return { proc, port, cleanup };
    } catch (error) {
      await stopProcess(proc);
      await cleanup();
      throw error;
    }
    await stopProcess(proc);
    await cleanup();
  }
  throw new Error('nginx lost its port 5 times in a row');
}

// nginx from a config in a temporary folder (no access log): in front of gunicorn sync for the
// slow-client scenario, as gunicorn's docs require (one worker, request bodies buffered,
// proxying to the backend's port), and serving a static folder (sendfile, as many workers as
// the others) for the static scenario. Runs in the harness process.
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

/** The proxy's location block, for the slow-client scenario. */
const proxyTo = (backendPort) => `location / {
      proxy_pass http://127.0.0.1:${backendPort};
      proxy_set_header Host $host;
      proxy_request_buffering on;
      proxy_buffering on;
    }`;

/** Files under /static/ from `root`, as a Django deployment's proxy serves STATIC_ROOT; the rest 404. */
const staticFrom = (root) => `location /static/ {
      alias ${root}/;
      include /etc/nginx/mime.types;
      sendfile on;
      tcp_nopush on;
      expires 60s;
      add_header X-Content-Type-Options nosniff;
    }`;

function config(dir, frontPort, location, workers) {
  const temp = (name) => join(dir, name);
  return `worker_processes ${workers};
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
    ${location}
  }
}
`;
}

/** Starts nginx (one worker) on a fresh port in front of `backendPort`; retries when the port is lost. */
export function startNginx(backendPort, pickPort, waitReady, probe) {
  return start(proxyTo(backendPort), 1, pickPort, waitReady, probe);
}

/** Starts nginx with `workers` workers serving the folder `root` under /static/. */
export function startNginxStatic(root, workers, pickPort, waitReady, probe) {
  return start(staticFrom(root), workers, pickPort, waitReady, probe);
}

async function start(location, workers, pickPort, waitReady, probe) {
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
    writeFileSync(join(dir, 'nginx.conf'), config(dir, port, location, workers));
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

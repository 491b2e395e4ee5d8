// The facts a result needs to be read: the machine (CPU, cores, kernel, memory), the runtimes,
// and the version of every server and tool in the run. Runs in the harness process.
import { spawnSync } from 'node:child_process';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { nginxPath } from './nginx.mjs';
import { bicornBin, repoRoot, venvBin } from './paths.mjs';

/** stdout and stderr of a short command (some tools print their version on stderr). */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, ...options });
  if (result.error !== undefined) return undefined;
  return `${result.stdout}${result.stderr}`.trim() || undefined;
}

function bicornVersion() {
  const version = run(process.execPath, ['--', bicornBin, '--version'])?.split('\n')[0];
  const commit = run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot });
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no', '--', 'packages'], { cwd: repoRoot });
  const where = commit === undefined ? '' : ` (${commit}${dirty ? ', with uncommitted changes in packages/' : ''})`;
  return `${version ?? 'unknown'}${where}`;
}

/** Versions of the Python packages in the peers' venv, by distribution name. */
function pythonVersions() {
  const names = ['gunicorn', 'uvicorn', 'httptools', 'uvloop', 'websockets', 'hypercorn', 'granian', 'django', 'starlette'];
  const script = `import importlib.metadata as m, json, sys\nout = {"python": sys.version.split()[0]}\nfor n in ${JSON.stringify(names)}:\n    try: out[n] = m.version(n)\n    except Exception: out[n] = None\nprint(json.dumps(out))`;
  const text = run(join(venvBin, 'python'), ['-c', script]);
  try {
    return JSON.parse(text ?? '{}');
  } catch {
    return {};
  }
}

function cpuModel() {
  const info = cpus();
  return info[0]?.model.trim() || 'unknown CPU';
}

/** Everything the report prints about where and with what it ran. */
export function machineFacts(loadTool) {
  const python = pythonVersions();
  const nginx = nginxPath();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: cpuModel(),
    cores: cpus().length,
    kernel: `${type()} ${release()}`,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    python: python.python ?? 'not found',
    loadTool: `${loadTool.name} ${loadTool.version}`,
    versions: {
      bicorn: bicornVersion(),
      gunicorn: python.gunicorn,
      uvicorn: python.uvicorn && `${python.uvicorn} (httptools ${python.httptools}, uvloop ${python.uvloop}, websockets ${python.websockets})`,
      hypercorn: python.hypercorn && `${python.hypercorn} (uvloop ${python.uvloop})`,
      granian: python.granian,
      nginx: nginx && /nginx\/(\S+)/.exec(run(nginx, ['-v']) ?? '')?.[1],
      node: process.version,
      django: python.django,
      starlette: python.starlette,
    },
  };
}

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBicorn } from './support/bicorn-process.js';
import { tempDir } from './support/temp-dir.js';

describe('bicorn check', () => {
  it('prints every effective value with its source', async () => {
    const cwd = tempDir('bicorn-check-');
    writeFileSync(join(cwd, 'bicorn.config.mjs'), "export default { workers: 3, keep_alive: '10s' };\n");
    const { code, stdout } = await runBicorn(['check', '--keep-alive', '7', 'app.mjs'], { cwd, env: { BICORN_LOG_LEVEL: 'debug' } });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^configuration is valid \(config file bicorn\.config\.mjs\)/);
    expect(stdout).toMatch(/\n {2}workers +3 +bicorn\.config\.mjs\n/);
    expect(stdout).toMatch(/\n {2}keep_alive +7 +--keep-alive\n/);
    expect(stdout).toMatch(/\n {2}log_level +"debug" +BICORN_LOG_LEVEL\n/);
    expect(stdout).toMatch(/\n {2}app +"app\.mjs" +the app argument\n/);
    expect(stdout).toMatch(/\n {2}bind +\["127\.0\.0\.1:8000"\] +default\n/);
  });

  it('shows the names of --env variables, never their values', async () => {
    const { code, stdout } = await runBicorn(['check', '-e', 'SECRET_KEY=hunter2', 'app.mjs']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\n {2}env +\["SECRET_KEY=…"\] +--env\n/);
    expect(stdout).not.toContain('hunter2');
  });

  it('reports every problem and exits 2', async () => {
    const { code, stderr } = await runBicorn(['check', '-w', 'many', '--log-level', 'loud']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'bicorn: error: invalid configuration (2 problems):\n' +
        '  workers (from --workers): expected a positive integer or "auto", got "many"\n' +
        '  log_level (from --log-level): expected one of "fatal", "error", "warn", "info", "debug", "trace" (any case; or "critical", "warning"), got "loud"\n',
    );
  });

  it('is what --print-config does too, as in gunicorn', async () => {
    const { code, stdout } = await runBicorn(['--print-config', '--host', '::1', '--port', '9000', 'app.mjs']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\n {2}bind +\["\[::1\]:9000"\] +--host\/--port\n/);
  });
});

describe('gunicorn and uvicorn command lines', () => {
  it('reads their flag names', async () => {
    const { code, stdout } = await runBicorn([
      'check', '-k', 'uvicorn.workers.UvicornWorker', '--timeout-keep-alive', '9', '--timeout-graceful-shutdown', '12', '--access-logfile', '-', 'app.mjs',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\n {2}interface +"asgi" +--worker-class\n/);
    expect(stdout).toMatch(/\n {2}keep_alive +9 +--timeout-keep-alive\n/);
    expect(stdout).toMatch(/\n {2}graceful_timeout +12 +--timeout-graceful-shutdown\n/);
    expect(stdout).toMatch(/\n {2}access_log +"-" +--access-logfile\n/);
  });

  it('names the flag when a worker class means nothing to bicorn', async () => {
    const { code, stderr } = await runBicorn(['check', '-k', 'tornado', 'app.mjs']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--worker-class tornado is not supported: bicorn has no Tornado worker; instead, /);
  });
});

describe('help and version', () => {
  it('groups options by section and shows defaults and environment variables', async () => {
    const { code, stdout } = await runBicorn(['serve', '--help']);
    expect(code).toBe(0);
    for (const section of ['Server:', 'Workers:', 'Timeouts:', 'Logging:', 'Config:']) expect(stdout).toContain(section);
    expect(stdout).toMatch(/-w, --workers <n\|auto>\s+How\s+many\s+worker\s+processes\s+to\s+run;\s+`auto`\s+means\s+one\s+per\s+CPU\s+bicorn\s+may\s+use:[^)]+\)\s+the\s+whole\s+CPUs\s+of\s+that\s+limit,\s+at\s+least\s+1\.\s+\(default:\s+1;\s+env\s+BICORN_WORKERS,\s+WEB_CONCURRENCY\)/);
  });

  it('prints the version', async () => {
    const { code, stdout } = await runBicorn(['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

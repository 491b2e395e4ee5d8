// `bicorn check --deploy` end to end: the checklist's exit codes (0 clean, 1 findings, 2 an
// unusable config or file), the supervisor files it reads, and Django's own checks run by the
// project's interpreter in the project's environment.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, repoRoot, runBicorn } from './support/bicorn-process.js';
import { tempDir } from './support/temp-dir.js';

/**
 * A deployment that passes, under a unit that runs bicorn unprivileged on one CPU (so that the
 * result depends neither on this machine's cores nor on the tests running as root).
 */
const clean = ['--systemd-unit', 'app.service', '--access-logfile', '-', '--metrics-bind', '127.0.0.1:9100', '--workers', '1', 'app.mjs'];

function deployDir(unit = '[Service]\nExecStart=/usr/bin/bicorn serve app.mjs\nUser=app\nCPUQuota=100%\nTimeoutStopSec=60\n'): string {
  const dir = tempDir('bicorn-deploy-');
  writeFileSync(join(dir, 'app.service'), unit);
  return dir;
}

describe('bicorn check --deploy', () => {
  it('exits 0 on a deployment that follows the checklist, printing the facts it used', async () => {
    const { code, stdout, stderr } = await runBicorn(['check', '--deploy', ...clean], { cwd: deployDir() });
    expect(stderr).toBe('');
    expect(stdout).toBe(
      'deployment checklist for the command line and environment\n' +
        '  CPUs  1: CPUQuota=100% in app.service\n' +
        '  user  not root: User=app in app.service\n' +
        '  stop  60 s: TimeoutStopSec= of app.service\n' +
        '0 errors, 0 warnings, 0 info: no warnings or errors\n',
    );
    expect(code).toBe(0);
  });

  it('exits 1 with one line per finding, its severity and its fix, and never prints a secret', async () => {
    const { code, stdout } = await runBicorn(['check', '--deploy', '-b', '0.0.0.0:8000', '--reload', '-e', 'SECRET_KEY=hunter2', '--systemd-unit', 'app.service', 'app.mjs'], { cwd: deployDir() });
    expect(code).toBe(1);
    const findings = stdout.split('\n').filter((line) => /^(error|warning|info) /.test(line));
    expect(findings.map((line) => /^(\w+) +\[([\w:.-]+)\]/.exec(line)?.slice(1, 3).join(' '))).toEqual(['warning reload', 'warning plain-http', 'error secret', 'warning access-log', 'warning metrics']);
    for (const line of findings) expect(line).toMatch(/; fix: \S/);
    expect(stdout).not.toContain('hunter2');
    expect(stdout).toMatch(/\n1 error, 4 warnings, 0 info: not ready to deploy \(exit 1\)\n$/);
  });

  it('compares workers with the CPUs --cpus gives, over the unit\'s CPUQuota=', async () => {
    const { code, stdout } = await runBicorn(['check', '--cpus', '8', ...clean], { cwd: deployDir() });
    expect(stdout).toContain('\n  CPUs  8: --cpus\n');
    expect(stdout).toContain('\nwarning [workers] workers 1 (from --workers) is fewer than half of 8 CPUs (--cpus)');
    expect(code).toBe(1);
  });

  it("checks the stop timeouts of the systemd unit and the pod it is given against bicorn's own", async () => {
    const dir = deployDir('[Service]\nExecStart=/usr/bin/bicorn serve app.mjs\nUser=app\nTimeoutStopSec=20\n');
    writeFileSync(join(dir, 'pod.yaml'), 'kind: Pod\nmetadata: { name: app }\nspec:\n  terminationGracePeriodSeconds: 60\n  securityContext: { runAsNonRoot: true }\n  containers: [{ name: app, image: bicorn }]\n');
    const { code, stdout } = await runBicorn(['check', '--kubernetes', 'pod.yaml', '--graceful-timeout', '30', ...clean], { cwd: dir });
    expect(code).toBe(1);
    expect(stdout).toContain('\n  stop  20 s: TimeoutStopSec= of app.service\n  stop  60 s: terminationGracePeriodSeconds of Pod app in pod.yaml\n');
    expect(stdout).toContain('\nerror   [stop-timeout] TimeoutStopSec= of app.service is 20 s, not more than shutdown_delay 0 s + graceful_timeout 30 s');
    expect(stdout).not.toContain('[stop-timeout] terminationGracePeriodSeconds');
  });

  it('exits 2 on a config serve would refuse, and on a supervisor file it cannot use', async () => {
    const cwd = deployDir();
    const invalid = await runBicorn(['check', '--deploy', '-w', 'many', 'app.mjs'], { cwd });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^bicorn: error: invalid configuration: workers/);
    const noApp = await runBicorn(['check', '--deploy'], { cwd });
    expect(noApp.code).toBe(2);
    expect(noApp.stderr).toMatch(/^bicorn: error: no app given/);
    const missing = await runBicorn(['check', '--kubernetes', 'nowhere.yaml', ...clean], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('bicorn: error: cannot use nowhere.yaml (--kubernetes): no such file; name the file that runs bicorn, or leave --kubernetes out\n');
    const noCpus = await runBicorn(['check', '--cpus', '0', ...clean], { cwd });
    expect(noCpus.code).toBe(2);
    expect(noCpus.stderr).toBe('bicorn: error: --cpus: expected a number of CPUs above 0 such as 2 or 0.5, got "0"; see bicorn --help\n');
  });
});

// The pinned Django lives in the repo's virtualenv, made by `pnpm python:setup`.
const python = join(repoRoot, '.venv', 'bin', 'python');
const hasDjango = spawnSync(python, ['-c', 'import django']).status === 0;
const djangoSuite = hasDjango ? "bicorn check --deploy on a Django project" : "bicorn check --deploy on a Django project (skipped: no Django in .venv; run `pnpm python:setup`)";

describe.skipIf(!hasDjango)(djangoSuite, () => {
  const project = ['--python', python, '--chdir', fixture('django_project'), '--systemd-unit', 'app.service', '--access-logfile', '-', '--metrics-bind', '127.0.0.1:9100', '--workers', '1', 'mysite.wsgi:application'];

  it("adds Django's own deployment findings, run by the project's interpreter", async () => {
    const { code, stdout } = await runBicorn(['check', '--deploy', ...project], { cwd: deployDir() });
    expect(code).toBe(1);
    expect(stdout).toContain('\nwarning [django:security.W004] You have not set a value for the SECURE_HSTS_SECONDS setting.');
    expect(stdout).toContain('\nwarning [django:security.W008] ');
  });

  it("runs Django's checks in the app's environment: --env and --pythonpath reach them", async () => {
    const dir = tempDir('bicorn-deploy-django-');
    writeFileSync(
      join(dir, 'deploysettings.py'),
      [
        'from mysite.settings import *  # noqa: F403',
        'SECRET_KEY = "k" * 20 + "".join(chr(65 + i) for i in range(26)) + "z" * 20',
        'SECURE_HSTS_SECONDS = 31536000',
        'SECURE_HSTS_INCLUDE_SUBDOMAINS = True',
        'SECURE_HSTS_PRELOAD = True',
        'SECURE_SSL_REDIRECT = True',
        'SESSION_COOKIE_SECURE = True',
        'CSRF_COOKIE_SECURE = True',
        '',
      ].join('\n'),
    );
    const { code, stdout } = await runBicorn(['check', '--deploy', '--pythonpath', dir, '-e', 'DJANGO_SETTINGS_MODULE=deploysettings', ...project], { cwd: deployDir() });
    expect(stdout).not.toContain('[django');
    expect(code).toBe(0);
  });

  it("finds a collected STATIC_ROOT that no --static serves, and is satisfied once one does", async () => {
    const dir = tempDir('bicorn-deploy-static-');
    const staticRoot = join(dir, 'collected');
    mkdirSync(staticRoot);
    writeFileSync(join(dir, 'staticsettings.py'), `from mysite.settings import *  # noqa: F403\nSTATIC_ROOT = ${JSON.stringify(staticRoot)}\nSTATIC_URL = "/assets/"\n`);
    const withSettings = ['--pythonpath', dir, '-e', 'DJANGO_SETTINGS_MODULE=staticsettings', ...project];
    const unserved = await runBicorn(['check', '--deploy', ...withSettings], { cwd: deployDir() });
    expect(unserved.stdout).toContain(`\nwarning [static-root] Django's STATIC_ROOT (${staticRoot}) has collected files, but no static mount serves it`);
    expect(unserved.stdout).toContain(`add --static /assets/=${relative(fixture('django_project'), staticRoot)} `);
    const served = await runBicorn(['check', '--deploy', '--static', `/assets/=${staticRoot}`, ...withSettings], { cwd: deployDir() });
    expect(served.stdout).not.toContain('[static-root]');
  });

  it("reports a project whose checks cannot run as an error, with Django's last line", async () => {
    const { code, stdout } = await runBicorn(['check', '--deploy', '-e', 'DJANGO_SETTINGS_MODULE=nosuch.settings', ...project], { cwd: deployDir() });
    expect(code).toBe(1);
    expect(stdout).toMatch(/\nerror {3}\[django\] Django's own deployment checks could not run: .*manage\.py check exited with 1: ModuleNotFoundError: No module named 'nosuch'/);
  });
});

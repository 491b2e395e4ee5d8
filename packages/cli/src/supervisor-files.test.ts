import { describe, expect, it } from 'vitest';
import { cpuQuantity, kubernetesFacts, SupervisorFileError, systemdSeconds, systemdUnitFacts } from './supervisor-files.js';

describe('a systemd service unit, for bicorn check --deploy', () => {
  it('gives TimeoutStopSec=, User= and CPUQuota= of the [Service] section, the last assignment winning', () => {
    const unit = '[Unit]\nDescription=x\nUser=nobody\n\n[Service]\nExecStart=/usr/bin/bicorn \\\n  serve\nTimeoutStopSec=20\n# TimeoutStopSec=99\nTimeoutStopSec=1min 30s\nUser=mysite\nCPUQuota=150%\n';
    expect(systemdUnitFacts(unit, 'mysite.service')).toEqual({
      stopDeadline: { name: 'TimeoutStopSec= of mysite.service', seconds: 90, before: 0 },
      runAs: { root: false, from: 'User=mysite in mysite.service' },
      cpus: { count: 1.5, from: 'CPUQuota=150% in mysite.service' },
    });
  });

  it("falls back on TimeoutSec=, then systemd's default of 90 s; without User= the service runs as root", () => {
    expect(systemdUnitFacts('[Service]\nTimeoutSec=45s\n', 'a.service').stopDeadline.seconds).toBe(45);
    const bare = systemdUnitFacts('[Service]\nExecStart=/bin/true\n', 'a.service');
    expect(bare.stopDeadline).toEqual({ name: 'the default TimeoutStopSec of a.service', seconds: 90, before: 0 });
    expect(bare.runAs.root).toBe(true);
    expect(bare.cpus).toBeUndefined();
    expect(systemdUnitFacts('[Service]\nUser=0\n', 'a.service').runAs.root).toBe(true);
  });

  it('refuses a file without a [Service] section, or a time span systemd would not read', () => {
    expect(() => systemdUnitFacts('[Socket]\nListenStream=80\n', 'a.socket')).toThrow(SupervisorFileError);
    expect(() => systemdUnitFacts('[Service]\nTimeoutStopSec=soon\n', 'a.service')).toThrow('TimeoutStopSec=soon is not a time span');
  });

  it('reads time spans as systemd does', () => {
    expect(systemdSeconds('40')).toBe(40);
    expect(systemdSeconds('2min')).toBe(120);
    expect(systemdSeconds('1h 2m 3s')).toBe(3723);
    expect(systemdSeconds('500ms')).toBe(0.5);
    expect(systemdSeconds('infinity')).toBe(Infinity);
    expect(systemdSeconds('5 parsecs')).toBeUndefined();
  });
});

const deployment = (pod: string, container = '') => `
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { ports: [{ port: 80 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
${pod}
      containers:
        - name: sidecar
          image: envoyproxy/envoy:v1.30
        - name: app
          image: registry.example/mysite:1
          args: [serve, -c, /etc/bicorn/bicorn.config.yaml]
${container}
`;

describe('a Kubernetes manifest, for bicorn check --deploy', () => {
  it("gives the pod's grace period, the bicorn container's CPU limit and who it runs as", () => {
    const text = deployment('      terminationGracePeriodSeconds: 45\n      securityContext: { runAsNonRoot: true }', '          resources: { requests: { cpu: 250m }, limits: { cpu: 500m } }');
    expect(kubernetesFacts(text, 'web.yaml')).toEqual({
      stopDeadline: { name: 'terminationGracePeriodSeconds of Deployment web in web.yaml', seconds: 45, before: 0 },
      runAs: { root: false, from: 'runAsNonRoot: true of the pod (Deployment web in web.yaml)' },
      cpus: { count: 0.5, from: 'resources.limits.cpu 500m of Deployment web in web.yaml' },
    });
  });

  it("takes Kubernetes' defaults, the CPU request without a limit, and the container's runAsUser over the pod's", () => {
    const text = deployment('      securityContext: { runAsUser: 1000 }', '          securityContext: { runAsUser: 0 }\n          resources: { requests: { cpu: 2 } }');
    const facts = kubernetesFacts(text, 'web.yaml');
    expect(facts.stopDeadline).toMatchObject({ name: 'the default terminationGracePeriodSeconds of Deployment web in web.yaml', seconds: 30 });
    expect(facts.runAs.root).toBe(true);
    expect(facts.cpus).toEqual({ count: 2, from: 'resources.requests.cpu 2 of Deployment web in web.yaml' });
    const bare = kubernetesFacts(deployment(''), 'web.yaml');
    expect(bare.runAs.root).toBeUndefined();
    expect(bare.cpus?.count).toBeUndefined();
  });

  it("counts a preStop hook's sleep against the grace period", () => {
    const sleeping = (hook: string) => kubernetesFacts(deployment('', `          lifecycle: { preStop: ${hook} }`), 'web.yaml').stopDeadline.before;
    expect(sleeping('{ sleep: { seconds: 5 } }')).toBe(5);
    expect(sleeping('{ exec: { command: [/bin/sh, -c, "sleep 10"] } }')).toBe(10);
    expect(sleeping('{ exec: { command: [/usr/bin/flush-cache] } }')).toBe(0);
  });

  it('finds the pod of a CronJob, and the only container of a Pod', () => {
    const cron = 'kind: CronJob\nmetadata: { name: c }\nspec: { jobTemplate: { spec: { template: { spec: { terminationGracePeriodSeconds: 9, containers: [{ name: a, image: bicorn }] } } } } }';
    expect(kubernetesFacts(cron, 'c.yaml').stopDeadline.seconds).toBe(9);
    const pod = 'kind: Pod\nmetadata: { name: p }\nspec: { terminationGracePeriodSeconds: 7, containers: [{ name: a, image: mysite }] }';
    expect(kubernetesFacts(pod, 'p.yaml').stopDeadline.seconds).toBe(7);
  });

  it('refuses a manifest without a workload that runs bicorn, or one that is not YAML', () => {
    expect(() => kubernetesFacts('kind: Service\nmetadata: { name: s }\n', 's.yaml')).toThrow(SupervisorFileError);
    expect(() => kubernetesFacts('kind: [', 's.yaml')).toThrow('it is not YAML');
  });

  it('reads CPU quantities', () => {
    expect(cpuQuantity('250m')).toBe(0.25);
    expect(cpuQuantity('1.5')).toBe(1.5);
    expect(cpuQuantity(2)).toBe(2);
    expect(cpuQuantity('0')).toBeUndefined();
    expect(cpuQuantity('2Gi')).toBeUndefined();
  });
});

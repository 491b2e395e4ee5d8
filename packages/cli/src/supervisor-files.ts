// What `bicorn check --deploy` reads from the files of the supervisor that will run bicorn: a
// systemd service unit (--systemd-unit) and a Kubernetes manifest (--kubernetes). Pure: the text
// comes in, the facts go out; the CLI reads the files.
import jsYaml from 'js-yaml';

/** How long a supervisor waits, from the moment it starts stopping bicorn, before it kills it. */
export interface StopDeadline {
  /** What sets it, for messages: `TimeoutStopSec= of mysite.service`. */
  readonly name: string;
  /** Infinity when it never kills. */
  readonly seconds: number;
  /** Seconds spent before bicorn gets SIGTERM (a Kubernetes preStop hook), out of the same budget. */
  readonly before: number;
}

/** Whether the master runs as root: undefined when the file does not say. */
export interface RunAs {
  readonly root: boolean | undefined;
  readonly from: string;
}

/** The CPUs bicorn may use: undefined when nothing limits them in the file. */
export interface Cpus {
  readonly count: number | undefined;
  readonly from: string;
}

export interface SupervisorFacts {
  readonly stopDeadline: StopDeadline;
  readonly runAs: RunAs;
  /** Absent when the file says nothing about CPUs (a unit without CPUQuota=). */
  readonly cpus?: Cpus;
}

/** A file that cannot be used, with the reason in words. */
export class SupervisorFileError extends Error {}

/** systemd's DefaultTimeoutStopSec. */
const SYSTEMD_STOP_DEFAULT_S = 90;
/** Kubernetes' default terminationGracePeriodSeconds. */
const KUBERNETES_GRACE_DEFAULT_S = 30;

export function systemdUnitFacts(text: string, label: string): SupervisorFacts {
  const service = serviceSection(text);
  if (service === undefined) throw new SupervisorFileError('it has no [Service] section');
  // TimeoutSec= sets both the start and the stop timeout; TimeoutStopSec= wins for stopping.
  const timeout = service.get('TimeoutStopSec') ?? service.get('TimeoutSec');
  const seconds = timeout === undefined ? SYSTEMD_STOP_DEFAULT_S : systemdSeconds(timeout);
  if (seconds === undefined) throw new SupervisorFileError(`TimeoutStopSec=${timeout ?? ''} is not a time span systemd reads`);
  const user = service.get('User');
  const quota = service.get('CPUQuota');
  const percent = quota === undefined ? undefined : /^(\d+(?:\.\d+)?)%$/.exec(quota.trim())?.[1];
  return {
    stopDeadline: { name: `${timeout === undefined ? 'the default TimeoutStopSec' : 'TimeoutStopSec='} of ${label}`, seconds, before: 0 },
    runAs: { root: user === undefined || user === '' || user === 'root' || user === '0', from: user === undefined ? `${label} has no User=` : `User=${user} in ${label}` },
    ...(percent === undefined ? {} : { cpus: { count: Number(percent) / 100, from: `CPUQuota=${quota ?? ''} in ${label}` } }),
  };
}

/** The [Service] section's settings; the last assignment of a key wins, as in systemd. */
function serviceSection(text: string): Map<string, string> | undefined {
  let section = '';
  let service: Map<string, string> | undefined;
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = header[1] ?? '';
      if (section === 'Service') service ??= new Map();
      continue;
    }
    const equals = line.indexOf('=');
    if (section === 'Service' && service !== undefined && equals > 0) service.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  return service;
}

const systemdUnits: Readonly<Record<string, number>> = {
  us: 1e-6, usec: 1e-6, ms: 1e-3, msec: 1e-3,
  s: 1, sec: 1, second: 1, seconds: 1,
  m: 60, min: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
};

/** A systemd time span ("90", "1min 30s", "infinity") in seconds; undefined when it is not one. */
export function systemdSeconds(span: string): number | undefined {
  const text = span.trim();
  if (text === 'infinity') return Infinity;
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const part = /^(\d+(?:\.\d+)?)\s*([a-z]+)\s*/.exec(rest);
    const factor = part?.[2] === undefined ? undefined : systemdUnits[part[2]];
    if (part === null || factor === undefined) return undefined;
    total += Number(part[1]) * factor;
    rest = rest.slice(part[0].length);
  }
  return total;
}

type Yaml = Readonly<Record<string, unknown>>;

/**
 * Reads the pod that runs bicorn from a manifest: the first Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, Job, CronJob or Pod with a container whose image, command or args name bicorn (or
 * the only container there is).
 */
export function kubernetesFacts(text: string, label: string): SupervisorFacts {
  let documents: unknown[];
  try {
    documents = jsYaml.loadAll(text);
  } catch (error) {
    throw new SupervisorFileError(`it is not YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  for (const document of documents) {
    if (!isObject(document)) continue;
    const pod = podSpec(document);
    if (pod === undefined) continue;
    const containers = Array.isArray(pod.containers) ? pod.containers.filter(isObject) : [];
    const container = containers.find(runsBicorn) ?? (containers.length === 1 ? containers[0] : undefined);
    if (container === undefined) continue;
    const name = field(document, 'metadata', 'name');
    const where = `${String(document.kind)} ${typeof name === 'string' ? name : '(unnamed)'} in ${label}`;
    const grace = typeof pod.terminationGracePeriodSeconds === 'number' ? pod.terminationGracePeriodSeconds : undefined;
    return {
      stopDeadline: {
        name: `${grace === undefined ? 'the default terminationGracePeriodSeconds' : 'terminationGracePeriodSeconds'} of ${where}`,
        seconds: grace ?? KUBERNETES_GRACE_DEFAULT_S,
        before: preStopSleep(container),
      },
      runAs: podRunAs(pod, container, where),
      cpus: containerCpus(container, where),
    };
  }
  throw new SupervisorFileError('it has no Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod with a container that runs bicorn');
}

function podSpec(document: Yaml): Yaml | undefined {
  switch (document.kind) {
    case 'Pod':
      return objectAt(document, 'spec');
    case 'CronJob':
      return objectAt(document, 'spec', 'jobTemplate', 'spec', 'template', 'spec');
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return objectAt(document, 'spec', 'template', 'spec');
    default:
      return undefined;
  }
}

function runsBicorn(container: Yaml): boolean {
  const words: unknown[] = [container.image, container.command, container.args].flat();
  return words.some((word) => typeof word === 'string' && word.includes('bicorn'));
}

/** A preStop hook that sleeps (the sleep action, or an exec of sleep) spends the grace period first. */
function preStopSleep(container: Yaml): number {
  const seconds = field(container, 'lifecycle', 'preStop', 'sleep', 'seconds');
  if (typeof seconds === 'number') return seconds;
  const command = field(container, 'lifecycle', 'preStop', 'exec', 'command');
  const line = Array.isArray(command) ? command.filter((word) => typeof word === 'string').join(' ') : '';
  const slept = /(?:^|[\s/])sleep\s+(\d+(?:\.\d+)?)s?\b/.exec(line)?.[1];
  return slept === undefined ? 0 : Number(slept);
}

/** The container's securityContext wins over the pod's, as in Kubernetes. */
function podRunAs(pod: Yaml, container: Yaml, where: string): RunAs {
  for (const [context, whose] of [[objectAt(container, 'securityContext'), 'the container'], [objectAt(pod, 'securityContext'), 'the pod']] as const) {
    if (context === undefined) continue;
    if (typeof context.runAsUser === 'number') return { root: context.runAsUser === 0, from: `runAsUser: ${String(context.runAsUser)} of ${whose} (${where})` };
  }
  for (const [context, whose] of [[objectAt(container, 'securityContext'), 'the container'], [objectAt(pod, 'securityContext'), 'the pod']] as const) {
    if (typeof context?.runAsNonRoot === 'boolean') return { root: context.runAsNonRoot ? false : undefined, from: `runAsNonRoot: ${String(context.runAsNonRoot)} of ${whose} (${where})` };
  }
  return { root: undefined, from: `no runAsNonRoot or runAsUser in ${where}: the image's USER decides` };
}

function containerCpus(container: Yaml, where: string): Cpus {
  for (const kind of ['limits', 'requests'] as const) {
    const quantity = field(container, 'resources', kind, 'cpu');
    const count = cpuQuantity(quantity);
    if (count !== undefined) return { count, from: `resources.${kind}.cpu ${String(quantity)} of ${where}` };
  }
  return { count: undefined, from: `no CPU limit or request in ${where}` };
}

/** A Kubernetes CPU quantity: 2, "1.5", "500m". */
export function cpuQuantity(quantity: unknown): number | undefined {
  if (typeof quantity === 'number') return quantity > 0 ? quantity : undefined;
  if (typeof quantity !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity.trim());
  if (match === null) return undefined;
  const count = Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
  return count > 0 ? count : undefined;
}

function isObject(value: unknown): value is Yaml {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) at = isObject(at) ? at[key] : undefined;
  return at;
}

function objectAt(value: unknown, ...path: string[]): Yaml | undefined {
  const found = field(value, ...path);
  return isObject(found) ? found : undefined;
}

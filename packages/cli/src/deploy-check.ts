// `bicorn check --deploy`: gathers the facts the checklist needs at the edge (the CPUs the cgroup
// allows, who bicorn runs as, the supervisors' files, Django's own checks in a Python process),
// runs the checklist (deploy-checklist.ts) and renders it. Runs in the CLI process.
import { servableApp, usableCpus, type LoadedConfig } from '@bicorn/config';
import { BicornError, ExitCode } from '@bicorn/protocol';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DeployCheckRequest } from './deploy-options.js';
import { fails, runChecklist, type DeployFacts, type Finding } from './deploy-checklist.js';
import { runDjangoCheck } from './django-check.js';
import { kubernetesFacts, SupervisorFileError, systemdUnitFacts, type Cpus, type SupervisorFacts } from './supervisor-files.js';

interface DeployCheckResult {
  readonly text: string;
  readonly exitCode: ExitCode;
}

export function deployCheck(request: DeployCheckRequest): DeployCheckResult {
  servableApp(request.loaded.config); // a config serve would refuse is unusable: exit 2
  const facts = gatherFacts(request);
  const findings = runChecklist({ loaded: request.loaded, facts });
  return { text: renderChecklist(request.loaded, facts, findings), exitCode: fails(findings) ? ExitCode.Findings : ExitCode.Ok };
}

function gatherFacts(request: DeployCheckRequest): DeployFacts {
  const unit = supervisor(request, '--systemd-unit', request.systemdUnit, systemdUnitFacts);
  const pod = supervisor(request, '--kubernetes', request.kubernetes, kubernetesFacts);
  const uid = process.getuid?.();
  return {
    runAs: pod?.runAs ?? unit?.runAs ?? { root: uid === 0, from: `this process runs as uid ${String(uid)}` },
    cpus: request.cpus === undefined ? (pod?.cpus ?? unit?.cpus ?? machineCpus()) : { count: request.cpus, from: '--cpus' },
    stopDeadlines: [unit, pod].flatMap((facts) => (facts === undefined ? [] : [facts.stopDeadline])),
    django: runDjangoCheck(request.loaded.config, request.env, request.cwd),
  };
}

/** The CPUs this process may use here: the cores, or fewer under the cgroup's CPU quota. */
function machineCpus(): Cpus {
  const { value, from } = usableCpus();
  return { count: value, from };
}

function supervisor(request: DeployCheckRequest, option: string, file: string | undefined, parse: (text: string, label: string) => SupervisorFacts): SupervisorFacts | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(resolve(request.cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BicornError('DEPLOY_FILE_FAILED', { option, file, reason: code === 'ENOENT' ? 'no such file' : (error as Error).message });
  }
  try {
    return parse(text, file);
  } catch (error) {
    if (error instanceof SupervisorFileError) throw new BicornError('DEPLOY_FILE_FAILED', { option, file, reason: error.message });
    throw error;
  }
}

function renderChecklist(loaded: LoadedConfig, facts: DeployFacts, findings: readonly Finding[]): string {
  const { cpus, runAs } = facts;
  const lines = [
    `deployment checklist for ${loaded.file === undefined ? 'the command line and environment' : `config file ${loaded.file.label}`}`,
    `  CPUs  ${cpus.count === undefined ? 'unknown' : String(cpus.count)}: ${cpus.from}`,
    `  user  ${runAs.root === undefined ? 'unknown' : runAs.root ? 'root' : 'not root'}: ${runAs.from}${loaded.config.user === null ? '' : `; the workers run as ${loaded.config.user} (user)`}`,
    ...facts.stopDeadlines.map((d) => `  stop  ${d.seconds === Infinity ? 'never killed' : `${String(d.seconds)} s`}: ${d.name}${d.before > 0 ? ` (a preStop hook takes ${String(d.before)} s of it)` : ''}`),
    ...findings.map((f) => `${f.severity.padEnd(7)} [${f.id}] ${f.message.replace(/\.$/, '')}; fix: ${f.fix}`),
  ];
  const count = (severity: Finding['severity']) => {
    const n = findings.filter((f) => f.severity === severity).length;
    return `${String(n)} ${severity}${n === 1 || severity === 'info' ? '' : 's'}`;
  };
  const counts = [count('error'), count('warning'), count('info')].join(', ');
  lines.push(fails(findings) ? `${counts}: not ready to deploy (exit 1)` : `${counts}: no warnings or errors`);
  return `${lines.join('\n')}\n`;
}

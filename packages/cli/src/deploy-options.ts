// The options of `bicorn check` for the deployment checklist, apart from the checklist itself
// (deploy-check.ts), which is loaded only when asked for. Runs in the CLI process.
import type { Env, LoadedConfig } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import { Option, type Command } from 'commander';

export interface DeployCheckRequest {
  readonly loaded: LoadedConfig;
  readonly env: Env;
  readonly cwd: string;
  /** --systemd-unit FILE: the service unit that runs bicorn. */
  readonly systemdUnit: string | undefined;
  /** --kubernetes FILE: the manifest of the pod that runs bicorn. */
  readonly kubernetes: string | undefined;
  /** --cpus N: the CPUs of the deployment, when the check does not run where bicorn will. */
  readonly cpus: number | undefined;
}

/** The options `bicorn check` takes for the checklist. */
export function addDeployOptions(command: Command): Command {
  return command
    .addOption(new Option('--deploy', 'Run the deployment checklist instead: one line per finding, exit 1 on a warning or an error.').helpGroup('Deployment checklist:'))
    .addOption(new Option('--systemd-unit <file>', "The service unit that runs bicorn: its TimeoutStopSec=, User= and CPUQuota= (implies --deploy).").helpGroup('Deployment checklist:'))
    .addOption(new Option('--kubernetes <file>', "The manifest of the pod that runs bicorn: its terminationGracePeriodSeconds, securityContext and CPU limit (implies --deploy).").helpGroup('Deployment checklist:'))
    .addOption(
      new Option('--cpus <n>', "The CPUs bicorn will have, to compare workers with (implies --deploy); default: the pod's CPU limit, the unit's CPUQuota=, else what this machine's cgroup allows.")
        .argParser(cpusOption)
        .helpGroup('Deployment checklist:'),
    );
}

function cpusOption(value: string): number {
  const cpus = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value.trim()) || cpus <= 0) throw new BicornError('USAGE', { message: `--cpus: expected a number of CPUs above 0 such as 2 or 0.5, got "${value}"` });
  return cpus;
}

/** What was asked of the checklist; undefined when `check` runs without it. */
export function deployOptions(command: Command): Pick<DeployCheckRequest, 'systemdUnit' | 'kubernetes' | 'cpus'> | undefined {
  const { deploy, systemdUnit, kubernetes, cpus } = command.opts<{ deploy?: boolean; systemdUnit?: string; kubernetes?: string; cpus?: number }>();
  return deploy === true || systemdUnit !== undefined || kubernetes !== undefined || cpus !== undefined ? { systemdUnit, kubernetes, cpus } : undefined;
}

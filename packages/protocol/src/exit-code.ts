// The process exit codes bicorn documents; a contract with operators and supervisors.

export const ExitCode = {
  /** Clean stop. */
  Ok: 0,
  /** Runtime failure, such as workers crashing in a loop. */
  RuntimeFailure: 1,
  /** `bicorn check --deploy` found a warning or an error. */
  Findings: 1,
  /** Usage or configuration error: a bad flag, config value, bind address. */
  Usage: 2,
  /** A worker could not boot. */
  WorkerBoot: 3,
  /** The application failed to load. */
  AppLoad: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function isExitCode(value: unknown): value is ExitCode {
  return Object.values<unknown>(ExitCode).includes(value);
}

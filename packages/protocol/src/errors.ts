// BicornError and the registry of its codes: every failure a person may see, with its exit
// code and a message that ends with the likely fix. Used by every process.
import { ExitCode } from './exit-code.js';

interface ErrorDetails {
  USAGE: { message: string };
  CONFIG_INVALID: { problems: readonly string[] };
  CONFIG_FILE_FAILED: { file: string; reason: string };
  LOG_OPEN_FAILED: { setting: string; path: string; reason: string };
  BIND_FAILED: { address: string; errno: string; reason: string };
  APP_NOT_FOUND: { app: string; path: string };
  APP_IMPORT_FAILED: { app: string; error: string };
  APP_EXPORT_INVALID: { app: string; exportName: string; found: string; available: readonly string[] };
  APP_INTERFACE_UNKNOWN: { app: string; found: string };
  LIFESPAN_FAILED: { app: string; reason: string };
  HOOK_FAILED: { hook: string; file: string; traceback: string; exitCode: ExitCode };
  WORKER_BOOT_FAILED: { workerId: number; exitCode: ExitCode; message: string };
  PYTHON_NOT_FOUND: { tried: string; reason: string };
  PYTHON_APP_FAILED: { app: string; exitCode: ExitCode; message: string };
  ENV_FILE_FAILED: { file: string; reason: string };
  STATIC_DIR_INVALID: { mount: string; path: string; reason: string };
  TLS_FILE_INVALID: { setting: string; file: string; reason: string };
  CRASH_LOOP: { failures: number; windowSeconds: number; exitCode: ExitCode; message: string };
  WORKERS_BEYOND_MACHINE: { workers: number; reason: string };
  PID_FILE_TAKEN: { path: string; pid: number };
  PID_FILE_FAILED: { path: string; reason: string };
  IPC_INVALID: { reason: string };
  USER_UNKNOWN: { setting: string; kind: string; name: string };
  PRIVILEGES_NEEDED: { setting: string; name: string; uid: number };
  DEPLOY_FILE_FAILED: { option: string; file: string; reason: string };
  CONTROL_SOCKET_FAILED: { path: string; errno: string; reason: string };
  CONTROL_INVALID: { reason: string };
  CONTROL_NO_SOCKET: { reason: string };
  CONTROL_UNREACHABLE: { path: string; reason: string };
  CONTROL_FAILED: { command: string; error: string };
}

export type ErrorCode = keyof ErrorDetails;

interface ErrorSpec<D> {
  exitCode: ExitCode | ((details: D) => ExitCode);
  message: (details: D) => string;
}

const registry: { [C in ErrorCode]: ErrorSpec<ErrorDetails[C]> } = {
  USAGE: { exitCode: ExitCode.Usage, message: (d) => `${d.message}; see bicorn --help` },
  CONFIG_INVALID: {
    exitCode: ExitCode.Usage,
    message: (d) =>
      d.problems.length === 1
        ? `invalid configuration: ${d.problems[0] ?? ''}`
        : `invalid configuration (${String(d.problems.length)} problems):\n  ${d.problems.join('\n  ')}`,
  },
  CONFIG_FILE_FAILED: {
    exitCode: ExitCode.Usage,
    message: (d) => `cannot read config file ${d.file}: ${d.reason}; fix the file or pass another with -c`,
  },
  LOG_OPEN_FAILED: {
    exitCode: ExitCode.Usage,
    message: (d) => `cannot open ${d.path} for ${d.setting}: ${d.reason}; choose a writable file, or - for stdout`,
  },
  BIND_FAILED: {
    exitCode: ExitCode.Usage,
    message: (d) => `cannot bind ${d.address}: ${d.reason} (${d.errno}); choose another address with -b`,
  },
  APP_NOT_FOUND: {
    exitCode: ExitCode.AppLoad,
    message: (d) => `app ${d.app}: no file at ${d.path}; check the path (it is relative to the working directory)`,
  },
  APP_IMPORT_FAILED: {
    exitCode: ExitCode.AppLoad,
    message: (d) => `app ${d.app} failed to load:\n${d.error}`,
  },
  APP_EXPORT_INVALID: {
    exitCode: ExitCode.AppLoad,
    message: (d) =>
      `app ${d.app}: export "${d.exportName}" is ${d.found}; ` +
      (d.available.length > 0
        ? `the module exports ${d.available.join(', ')}; name one as ${d.app.split(':')[0] ?? d.app}:<export>`
        : 'the module exports nothing; export the app as default or by name'),
  },
  APP_INTERFACE_UNKNOWN: {
    exitCode: ExitCode.AppLoad,
    message: (d) =>
      `app ${d.app}: cannot tell which interface ${d.found} speaks; ` +
      'pass --interface asgi, fetch or node (see bicorn --help)',
  },
  LIFESPAN_FAILED: { exitCode: ExitCode.WorkerBoot, message: (d) => `app ${d.app}: ASGI lifespan startup failed: ${d.reason.trimEnd()}\nfix the app's startup, or pass --lifespan off to serve it without lifespan events` },
  HOOK_FAILED: {
    exitCode: (d) => d.exitCode,
    message: (d) => `the ${d.hook} hook in ${d.file} raised, which stops bicorn as it stops gunicorn:\n${d.traceback.trimEnd()}\nfix the hook in ${d.file}`,
  },
  WORKER_BOOT_FAILED: { exitCode: (d) => d.exitCode, message: (d) => d.message },
  PYTHON_NOT_FOUND: {
    exitCode: ExitCode.Usage,
    message: (d) => `no usable Python interpreter: tried ${d.tried}, ${d.reason}; install Python 3.9 or newer, or name one with --python`,
  },
  PYTHON_APP_FAILED: {
    exitCode: (d) => d.exitCode,
    message: (d) => `app ${d.app} failed to load:\n${d.message.trimEnd()}`,
  },
  ENV_FILE_FAILED: {
    exitCode: ExitCode.Usage,
    message: (d) => `cannot read env file ${d.file}: ${d.reason}; fix it or drop --env-file`,
  },
  STATIC_DIR_INVALID: {
    exitCode: ExitCode.Usage,
    message: (d) => `static ${d.mount}: ${d.path} ${d.reason}; run collectstatic (or create it), or fix the directory in static (it is relative to chdir)`,
  },
  TLS_FILE_INVALID: {
    exitCode: ExitCode.Usage,
    message: (d) => `${d.setting} ${d.file}: ${d.reason}; fix the file or point ${d.setting} at another`,
  },
  CRASH_LOOP: {
    exitCode: (d) => d.exitCode,
    message: (d) =>
      `workers could not boot ${String(d.failures)} times within ${String(d.windowSeconds)} s while none served, so bicorn stopped; the last failure:\n${d.message.trimEnd()}\n` +
      'fix it and start bicorn again (raise max_restarts or restart_window to retry longer)',
  },
  WORKERS_BEYOND_MACHINE: {
    exitCode: ExitCode.Usage,
    message: (d) => `workers: ${String(d.workers)} is more than this machine can run: ${d.reason}; choose fewer with -w (or raise the limit)`,
  },
  PID_FILE_TAKEN: {
    exitCode: ExitCode.Usage,
    message: (d) => `pid file ${d.path} names process ${String(d.pid)}, which is running: is bicorn already running there? Stop it, or choose another file with --pid`,
  },
  PID_FILE_FAILED: {
    exitCode: ExitCode.Usage,
    message: (d) => `cannot use pid file ${d.path}: ${d.reason}; choose a writable path with --pid`,
  },
  IPC_INVALID: {
    exitCode: ExitCode.RuntimeFailure,
    message: (d) => `internal error: invalid message between master and worker: ${d.reason}`,
  },
  USER_UNKNOWN: {
    exitCode: ExitCode.Usage,
    message: (d) => `${d.setting}: this machine has no ${d.kind} ${d.name}; create it (useradd --system, groupadd --system) or name another one (or a numeric id) in ${d.setting}`,
  },
  PRIVILEGES_NEEDED: {
    exitCode: ExitCode.Usage,
    message: (d) => `${d.setting} ${d.name} needs bicorn to start as root to switch to it, but it runs as uid ${String(d.uid)}; start it as root (or under a systemd unit with User=${d.name}), or leave ${d.setting} unset`,
  },
  DEPLOY_FILE_FAILED: {
    exitCode: ExitCode.Usage,
    message: (d) => `cannot use ${d.file} (${d.option}): ${d.reason}; name the file that runs bicorn, or leave ${d.option} out`,
  },
  CONTROL_SOCKET_FAILED: {
    exitCode: ExitCode.Usage,
    message: (d) => `cannot use control socket ${d.path}: ${d.reason} (${d.errno}); choose another path with --control-socket, or pass --no-control-socket`,
  },
  CONTROL_INVALID: {
    exitCode: ExitCode.RuntimeFailure,
    message: (d) => `invalid control socket message: ${d.reason}`,
  },
  CONTROL_NO_SOCKET: {
    exitCode: ExitCode.Usage,
    message: (d) => `no control socket to talk to: ${d.reason}; name it with --control-socket, or the server's pid file with --pid`,
  },
  CONTROL_UNREACHABLE: {
    exitCode: ExitCode.RuntimeFailure,
    message: (d) => `cannot reach bicorn on its control socket ${d.path}: ${d.reason}; is it running? Name its socket with --control-socket, or its pid file with --pid`,
  },
  CONTROL_FAILED: {
    exitCode: ExitCode.RuntimeFailure,
    message: (d) => `${d.command}: ${d.error}`,
  },
};

export class BicornError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'BicornError';
  readonly exitCode: ExitCode;

  constructor(
    readonly code: C,
    readonly details: ErrorDetails[C],
    options?: ErrorOptions,
  ) {
    const spec = registry[code];
    super(spec.message(details), options);
    this.exitCode = typeof spec.exitCode === 'function' ? spec.exitCode(details) : spec.exitCode;
  }
}

export function isBicornError(value: unknown): value is BicornError {
  return value instanceof BicornError;
}

// The sub-commands that talk to a running server over its control socket: status, reload, stop,
// scale and reopen-logs. They find the socket as the server does (--control-socket, else beside
// --pid, else in $XDG_RUNTIME_DIR), from the same flags, BICORN_* variables and config file.
// Runs in the CLI.
import { loadConfig, type CliValues, type Env } from '@bicorn/config';
import { controlSocketPath } from '@bicorn/master';
import { BicornError, type ControlRequest } from '@bicorn/protocol';
import { Option, type Command } from 'commander';
import type { ControlCall } from './control-client.js';

export interface ControlAction {
  readonly kind: 'control';
  readonly call: ControlCall;
  /** `status --json`: the report as JSON, for scripts. */
  readonly json: boolean;
}

interface ControlOptions {
  controlSocket?: string;
  pid?: string;
  config?: string;
  timeout?: string;
  json?: boolean;
  wait?: boolean;
  fast?: boolean;
}

interface Context {
  readonly env: Env;
  readonly cwd: string;
  /** Makes a command report errors and help as the program's own do. */
  readonly configure: (command: Command) => Command;
  readonly choose: (action: ControlAction) => void;
}

/** How long a command that waits for its outcome (reload, scale, stop) waits by default. */
const WAIT_TIMEOUT_S = 120;
/** And one that does not. */
const ANSWER_TIMEOUT_S = 10;

export function addControlCommands(program: Command, context: Context): void {
  const command = (name: string, description: string): Command =>
    context
      .configure(program.command(name))
      .description(description)
      .addOption(new Option('-s, --control-socket <path>', 'The control socket of the server (default: beside --pid, else $XDG_RUNTIME_DIR/bicorn.ctl).').helpGroup('Control socket:'))
      .addOption(new Option('-p, --pid <file>', "The server's pid file: its control socket is beside it.").helpGroup('Control socket:'))
      .addOption(new Option('-c, --config <file>', 'Read control_socket and pid from this config file.').helpGroup('Control socket:'))
      .addOption(new Option('--timeout <seconds>', 'Give up waiting after this long (exit 1).').helpGroup('Control socket:'));
  const run = (cmd: Command, request: ControlRequest, waits: boolean): Promise<void> => choose(context, cmd, request, waits);

  const status = command('status', 'Show the workers of a running server (a table, or --json for scripts): bicorn status [options]')
    .addOption(new Option('--json', 'Print the report as JSON.'));
  status.action(() => run(status, { command: 'status' }, false));

  const reload = command('reload', 'Reload a running server, as SIGHUP does, and wait until the new workers serve or the reload failed: bicorn reload [options]')
    .addOption(new Option('--no-wait', 'Return once the reload has begun.'));
  reload.action(() => run(reload, { command: 'reload', wait: opts(reload).wait !== false }, opts(reload).wait !== false));

  const stop = command('stop', 'Stop a running server gracefully (as SIGINT does; --fast as SIGQUIT), and wait until it has exited: bicorn stop [--fast] [options]')
    .addOption(new Option('--fast', 'Stop at once, cutting requests in flight.'))
    .addOption(new Option('--no-wait', 'Return once the stop has begun.'));
  stop.action(() => {
    const wait = opts(stop).wait !== false;
    return run(stop, { command: 'stop', mode: opts(stop).fast === true ? 'fast' : 'graceful', wait }, wait);
  });

  const scale = command('scale', 'Set the worker count of a running server (N), or change it (+N, -N), and wait until it is reached: bicorn scale N|+N|-N [options]')
    .argument('<workers>', 'N, +N or -N')
    .addOption(new Option('--no-wait', 'Return once the workers are started or stopped.'));
  scale.action((workers: string) => {
    const wait = opts(scale).wait !== false;
    return run(scale, { command: 'scale', ...scaleChange(workers), wait }, wait);
  });

  const reopen = command('reopen-logs', 'Make a running server reopen its log files, as SIGUSR1 does (after logrotate): bicorn reopen-logs [options]');
  reopen.action(() => run(reopen, { command: 'reopen-logs' }, false));
}

function opts(command: Command): ControlOptions {
  return command.opts<ControlOptions>();
}

function scaleChange(text: string): { to: number } | { by: number } {
  const match = /^([+-]?)(\d+)$/.exec(text.trim());
  const amount = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(amount) || (match[1] === '' ? amount < 1 : amount === 0)) {
    throw new BicornError('USAGE', { message: `scale: expected a worker count N (1 or more), +N or -N, got ${JSON.stringify(text)}` });
  }
  if (match[1] === '') return { to: amount };
  return { by: match[1] === '-' ? -amount : amount };
}

async function choose(context: Context, command: Command, request: ControlRequest, waits: boolean): Promise<void> {
  const options = opts(command);
  const cli: CliValues = {
    ...(options.controlSocket === undefined ? {} : { control_socket: { value: options.controlSocket, flag: '--control-socket' } }),
    ...(options.pid === undefined ? {} : { pid: { value: options.pid, flag: '--pid' } }),
  };
  const { config } = await loadConfig({ cli, env: context.env, cwd: context.cwd, configFile: options.config });
  const where = controlSocketPath(config, context.env);
  if (where.kind === 'none') throw new BicornError('CONTROL_NO_SOCKET', { reason: where.reason });
  const timeoutS = options.timeout === undefined ? (waits ? WAIT_TIMEOUT_S : ANSWER_TIMEOUT_S) : Number(options.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new BicornError('USAGE', { message: `--timeout: expected seconds, such as 30, got ${JSON.stringify(options.timeout)}` });
  context.choose({
    kind: 'control',
    call: { path: where.path, request, timeoutMs: timeoutS * 1000, untilClosed: request.command === 'stop' && waits },
    json: options.json === true,
  });
}

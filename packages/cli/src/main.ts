// The bicorn command: `serve` (the default), `check`, `systemd`, and the commands that talk to a
// running server (`status`, `reload`, `stop`, `scale`, `reopen-logs`). Returns the exit code;
// only the binary's entry exits the process. What one command alone needs (the checklist and
// js-yaml, the unit writer, the control client) is loaded when it runs: not by a serving master.
import { servableApp, type Env, type LoadedConfig } from '@bicorn/config';
import { runMaster } from '@bicorn/master';
import { BicornError, ExitCode, isBicornError } from '@bicorn/protocol';
import { openProcessLogs } from '@bicorn/runtime';
import { Command, CommanderError, Option } from 'commander';
import { daemonize, type Readiness } from './daemon.js';
import { checkCommandTypo, checkMissingValues, normaliseArgv } from './argv.js';
import { addControlCommands, type ControlAction } from './control-command.js';
import { addDeployOptions, deployOptions } from './deploy-options.js';
import { addSettingOptions, readCommandLine, type CommandOptions } from './options.js';
import { readConfig, type ReadConfig } from './read-config.js';
import { renderEffectiveConfig, renderError } from './render.js';

export interface MainOptions {
  readonly version: string;
  /** Path of the worker entry module the master forks. */
  readonly workerEntry: string;
  readonly env: Env;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** bicorn's binary, for the units of `bicorn systemd`; default: the script node runs. */
  readonly binary?: string;
  /** Set in the detached copy that --daemon starts: how it tells the command it serves. */
  readonly readiness?: Readiness | undefined;
}

type Action =
  | {
      kind: 'serve';
      read: ReadConfig;
      /** Reads the config again as it was read now: the same flags, environment and file. */
      reload: () => Promise<LoadedConfig>;
    }
  /** `loadApp`: also load the app once (bicorn check --load-app, --check-config). */
  | { kind: 'check'; read: ReadConfig; loadApp: boolean }
  | { kind: 'print'; text: string }
  | { kind: 'report'; text: string; exitCode: ExitCode }
  | ControlAction;

const COMMANDS = ['serve', 'check', 'systemd', 'status', 'reload', 'stop', 'scale', 'reopen-logs', 'help'];

export async function main(argv: readonly string[], options: MainOptions): Promise<ExitCode> {
  let action: Action | undefined;
  const program = buildProgram(options, (next) => {
    action = next;
  });
  try {
    const args = normaliseArgv(argv);
    checkCommandTypo(args, COMMANDS, options.cwd);
    checkHelpTopic(args);
    const command = program.commands.find((c) => c.name() === args[0]) ?? program.commands.find((c) => c.name() === 'serve');
    if (command !== undefined) checkMissingValues(args, command);
    await program.parseAsync(args, { from: 'user' });
    if (action === undefined) return ExitCode.Ok; // --help or --version
    if (action.kind === 'print') {
      options.stdout(action.text);
      return ExitCode.Ok;
    }
    if (action.kind === 'report') {
      options.stdout(action.text);
      return action.exitCode;
    }
    if (action.kind === 'check') {
      options.stdout(renderEffectiveConfig(action.read.loaded, action.read.notes));
      if (action.loadApp) {
        const { checkApp } = await import('./app-check.js');
        options.stdout(await checkApp(action.read.loaded.config, options.env, options.cwd));
      }
      return ExitCode.Ok;
    }
    if (action.kind === 'control') return await control(action, options);
    return await serve(action, argv, options);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.Ok;
      options.stderr(renderError(new BicornError('USAGE', { message: usageMessage(error) }), false));
      return ExitCode.Usage;
    }
    const text = renderError(error, verbose(options, argv));
    options.stderr(text);
    options.readiness?.failed(text);
    return isBicornError(error) ? error.exitCode : ExitCode.RuntimeFailure;
  }
}

function buildProgram(options: MainOptions, choose: (action: Action) => void): Command {
  const program = new Command('bicorn')
    .description('An application server and process manager for Python (WSGI, ASGI) and JavaScript web apps.')
    .version(options.version, '-v, --version', 'Print the version and exit.')
    .helpOption('-h, --help', 'Show this help.')
    .exitOverride()
    .configureOutput({ writeOut: options.stdout, writeErr: () => undefined })
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'Show the help of a command.')
    .addHelpText(
      'after',
      '\nExamples:\n  bicorn -w 4 -b 0.0.0.0:8000 mysite.wsgi:application   serve a Django project with 4 workers\n  bicorn -w 2 ./server.mjs                               serve a JavaScript app\n  bicorn check                                           print the effective configuration\n  bicorn check --deploy                                  run the deployment checklist\n  bicorn status -p /run/mysite/bicorn.pid                show the workers of a running server\n\nRun `bicorn serve --help` for every option.',
    );

  const serve = configure(program.command('serve', { isDefault: true }), options)
    .description('Serve an app (the default command): bicorn [serve] [options] <app>')
    .addOption(new Option('--check-config', 'Check the configuration, load the app once and exit (4 if it fails to load), as in gunicorn.').helpGroup('Config:'))
    .addOption(new Option('--print-config', 'Print the effective configuration and exit, as in gunicorn.').helpGroup('Config:'));
  const serveSettings = addSettingOptions(serve);
  serve.action(async (app: string | undefined) => {
    const read = () => readFor(serve, serveSettings, app, options);
    const { checkConfig, printConfig } = serve.opts<{ checkConfig?: boolean; printConfig?: boolean }>();
    const first = await read();
    choose(
      checkConfig === true || printConfig === true
        ? { kind: 'check', read: first, loadApp: checkConfig === true }
        : { kind: 'serve', read: first, reload: async () => (await read()).loaded },
    );
  });

  const check = configure(program.command('check'), options)
    .description('Check the configuration and print every effective value with its source, or with --deploy run the deployment checklist: bicorn check [options] [app]')
    .addOption(new Option('--load-app', 'Also load the app once, as a worker would (exit 4 if it fails), as gunicorn --check-config does.').helpGroup('Config:'));
  addDeployOptions(check);
  const checkSettings = addSettingOptions(check);
  check.action(async (app: string | undefined) => {
    const read = await readFor(check, checkSettings, app, options);
    const deploy = deployOptions(check);
    if (deploy === undefined) {
      choose({ kind: 'check', read, loadApp: check.opts<{ loadApp?: boolean }>().loadApp === true });
      return;
    }
    const { deployCheck } = await import('./deploy-check.js');
    choose({ kind: 'report', ...deployCheck({ loaded: read.loaded, env: options.env, cwd: options.cwd, ...deploy }) });
  });

  const systemd = configure(program.command('systemd'), options)
    .description('Print a systemd service unit for this configuration (and a socket unit with --socket): bicorn systemd [options] [app]')
    .addOption(new Option('--socket', 'Also print a socket unit: systemd binds the addresses and passes them to bicorn.').helpGroup('Unit:'))
    .addOption(new Option('--name <unit>', 'The unit name (default: from the app, such as mysite for mysite.wsgi:application).').helpGroup('Unit:'))
    .addOption(new Option('--systemd-version <n>', "systemd's version on the target (default: this machine's); below 253, Type=notify instead of notify-reload.").argParser(Number).helpGroup('Unit:'));
  const systemdSettings = addSettingOptions(systemd);
  systemd.action(async (app: string | undefined) => {
    const opts = systemd.opts<{ config?: string; socket?: boolean; name?: string; systemdVersion?: number }>();
    const line = readCommandLine(systemd, systemdSettings, app);
    const cli = line.values;
    const { loaded } = await readConfig(line, { env: options.env, cwd: options.cwd, configFile: opts.config });
    if (opts.systemdVersion !== undefined && !Number.isInteger(opts.systemdVersion)) throw new BicornError('USAGE', { message: '--systemd-version: expected a whole number such as 252' });
    const binary = options.binary ?? process.argv[1] ?? 'bicorn';
    const { renderUnits } = await import('./systemd-command.js');
    choose({ kind: 'print', text: renderUnits({ loaded, cli, env: options.env, cwd: options.cwd, binary, socket: opts.socket === true, name: opts.name, systemdVersion: opts.systemdVersion }) });
  });
  addControlCommands(program, {
    env: options.env,
    cwd: options.cwd,
    configure: (command) =>
      command
        .exitOverride()
        .configureOutput({ writeOut: options.stdout, writeErr: () => undefined })
        .showSuggestionAfterError(true),
    choose,
  });
  return program;
}

function configure(command: Command, options: MainOptions): Command {
  return command
    .argument('[app]', 'the app: path/to/app.mjs[:export] (or module:callable for Python)')
    .addOption(new Option('-c, --config <file>', 'Read settings from this file instead of searching the working directory.').helpGroup('Config:'))
    .exitOverride()
    .configureOutput({ writeOut: options.stdout, writeErr: () => undefined })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      "\nSettings come from flags, then BICORN_* environment variables, then gunicorn's and uvicorn's (GUNICORN_CMD_ARGS,\nUVICORN_*, PORT, WEB_CONCURRENCY, FORWARDED_ALLOW_IPS), then a config file, then defaults. The full reference is\nSETTINGS.md in @bicorn/config; what bicorn does with every gunicorn and uvicorn flag is in docs/dropin.md.",
    );
}

function readFor(command: Command, settings: CommandOptions, app: string | undefined, options: MainOptions): Promise<ReadConfig> {
  const line = readCommandLine(command, settings, app);
  const swallowed = app === undefined ? Object.values(line.values).find((given) => typeof given.value === 'string' && looksLikeApp(given.value)) : undefined;
  const problems = swallowed === undefined ? line.problems : [...line.problems, `no app was given, and ${swallowed.flag} took ${JSON.stringify(swallowed.value)} as its value: is the variable for its value empty, as in -w $WORKERS?`];
  return readConfig({ ...line, problems }, { env: options.env, cwd: options.cwd, configFile: command.opts<{ config?: string }>().config });
}

/** module:callable, or a JavaScript file. */
function looksLikeApp(value: string): boolean {
  return /^[A-Za-z_][\w.]*:[A-Za-z_]/.test(value) || /\.[cm]?js(:[\w$]+)?$/.test(value);
}

/** `bicorn help nosuch` names the commands instead of failing inside commander. */
function checkHelpTopic(args: readonly string[]): void {
  const topic = args[1];
  if (args[0] !== 'help' || topic === undefined || topic.startsWith('-') || COMMANDS.includes(topic)) return;
  throw new BicornError('USAGE', { message: `unknown command '${topic}'; the commands are serve (the default), check, systemd, status, reload, stop, scale and reopen-logs: bicorn help <command>` });
}

/** commander's words, with what usually causes them on a migrated command line. */
function usageMessage(error: CommanderError): string {
  const message = error.message.replace(/^error: /, '').replaceAll('\n', ' ');
  switch (error.code) {
    case 'commander.excessArguments':
      return `${message.replace(/\.$/, '')} (the app is the only argument; did an option before it lose its value to an empty variable, as in -w $WORKERS?)`;
    case 'commander.optionMissingArgument':
      return `${message} (an empty variable, as in -w $WORKERS?)`;
    default:
      return message;
  }
}

async function serve(action: Extract<Action, { kind: 'serve' }>, argv: readonly string[], options: MainOptions): Promise<ExitCode> {
  const { config, file } = action.read.loaded;
  servableApp(config); // fail before binding anything
  if (config.daemon && options.readiness === undefined) {
    if (config.error_log === '-') options.stderr('bicorn: warning: with --daemon, the log on stdout goes to /dev/null; give --error-logfile FILE to keep it\n');
    return daemonize({ argv, env: options.env, cwd: options.cwd, stderr: options.stderr });
  }
  const { log, destination, statsd } = openProcessLogs(config, 'master');
  for (const note of action.read.notes) log[note.level](note.text);
  const reloadConfig = async () => {
    const reloaded = (await action.reload()).config;
    servableApp(reloaded);
    return reloaded;
  };
  try {
    return await runMaster({ config, workerEntry: options.workerEntry, log, reloadConfig, configFile: file?.path, reopenLogs: destination.reopen, cwd: options.cwd, version: options.version, env: options.env, statsd, onReady: () => options.readiness?.ready() });
  } finally {
    await statsd?.close();
    destination.flush();
  }
}

async function control(action: ControlAction, options: MainOptions): Promise<ExitCode> {
  const { call } = action;
  const [{ callControl }, { renderStatus }] = await Promise.all([import('./control-client.js'), import('./status-table.js')]);
  const answer = await callControl(call);
  if (!answer.ok) throw new BicornError('CONTROL_FAILED', { command: call.request.command, error: answer.error });
  if (answer.status !== undefined) options.stdout(action.json ? `${JSON.stringify(answer.status, null, 2)}\n` : renderStatus(answer.status));
  else options.stdout(`${answer.message}\n${call.untilClosed ? 'stopped\n' : ''}`);
  return ExitCode.Ok;
}

function verbose(options: MainOptions, argv: readonly string[]): boolean {
  const debug = (level: string | undefined): boolean => /^(debug|trace)$/i.test(level ?? '');
  return debug(options.env.BICORN_LOG_LEVEL) || argv.some((arg, i) => debug(/^--log-level=(.*)$/.exec(arg)?.[1]) || (arg === '--log-level' && debug(argv[i + 1])));
}

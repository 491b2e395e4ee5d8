// The command-line options, generated from the settings table, plus uvicorn's
// --host/--port/--uds/--fd folded into bind and gunicorn's -k folded into interface. Turns what commander parsed into raw
// values for @bicorn/config, which validates them.
import { envNames, formatValue, settingKeys, settings, type CliValues, type Setting, type SettingKey } from '@bicorn/config';
import { Option, type Command } from 'commander';

interface SettingOption {
  readonly key: SettingKey;
  readonly flag: string;
  readonly option: Option;
}

const compatFlags = ['--host', '--port', '--uds', '--fd'] as const;

/** Adds every setting's flags to a command; returns what is needed to read them back. */
export function addSettingOptions(command: Command): readonly SettingOption[] {
  const added: SettingOption[] = [];
  for (const key of settingKeys) {
    const declared: Setting<unknown, unknown> = settings[key];
    const shortFlag = declared.flags.find((f) => !f.startsWith('--'));
    const longFlags = declared.flags.filter((f) => f.startsWith('--'));
    for (const [index, long] of longFlags.entries()) {
      const names = index === 0 && shortFlag !== undefined ? `${shortFlag}, ${long}` : long;
      const value = declared.type.placeholder === '' ? '' : ` ${declared.type.placeholder}`;
      const option = new Option(`${names}${value}`, describe(key, declared)).helpGroup(`${declared.section}:`);
      if (Array.isArray(declared.default)) option.argParser(collect);
      // Aliases and settings that are not implemented yet are accepted but not advertised.
      if (index > 0 || declared.comesWith !== undefined) option.hideHelp();
      command.addOption(option);
      added.push({ key, flag: long, option });
    }
  }
  command.addOption(new Option('--host <host>', 'Bind to this host, as in uvicorn (with --port).').helpGroup('Server:'));
  command.addOption(new Option('--port <port>', 'Bind to this port, as in uvicorn (with --host).').helpGroup('Server:'));
  command.addOption(
    new Option('-k, --worker-class <class>', "gunicorn's worker class, read as --interface: sync, gthread, gevent or eventlet mean wsgi, uvicorn's workers asgi.").helpGroup('Application:'),
  );
  command.addOption(new Option('--uds <path>', 'Bind to a unix socket, as in uvicorn.').hideHelp());
  command.addOption(new Option('--fd <n>', 'Bind to an inherited file descriptor, as in uvicorn.').hideHelp());
  return added;
}

function describe(key: SettingKey, declared: Setting<unknown, unknown>): string {
  const fallback = declared.default === null || (Array.isArray(declared.default) && declared.default.length === 0)
    ? ''
    : `default: ${Array.isArray(declared.default) ? declared.default.join(', ') : formatValue(declared.type, declared.default)}; `;
  return `${declared.doc} (${fallback}env ${envNames(key).join(', ')})`;
}

function collect(value: string, previous: unknown): string[] {
  return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
}

/** Reads the parsed options back as raw values keyed by setting, each with the flag that gave it. */
export function cliValues(command: Command, options: readonly SettingOption[], app: string | undefined): CliValues {
  const parsed = command.opts<Record<string, unknown>>();
  const values: CliValues = {};
  for (const { key, flag, option } of options) {
    const value = parsed[option.attributeName()];
    // `--x` and `--no-x` share commander's attribute. Where they are one setting
    // (--proxy-headers/--no-proxy-headers), the flag named is the one that gave the value; a
    // setting that is only the negating flag (--no-control-socket) is true when it was given.
    if (value === undefined) continue;
    if (!option.negate) {
      if (value !== false) values[key] = { value, flag };
    } else if (value === false) {
      const pairedWithPositive = settings[key].flags.some((f) => f.startsWith('--') && !f.startsWith('--no-'));
      values[key] = { value: !pairedWithPositive, flag };
    }
  }
  const compatBinds = compatBindValues(parsed);
  if (compatBinds.length > 0) {
    const given = values.bind;
    const flags = compatFlags.filter((f) => parsed[f.slice(2)] !== undefined);
    values.bind = {
      value: [...(Array.isArray(given?.value) ? (given.value as string[]) : []), ...compatBinds],
      flag: [given?.flag, ...flags].filter((f) => f !== undefined).join('/'),
    };
  }
  const workerClass = parsed.workerClass;
  if (typeof workerClass === 'string' && values.interface === undefined) {
    values.interface = { value: workerClassInterfaces[workerClass] ?? workerClass, flag: '--worker-class' };
  }
  if (app !== undefined) values.app = { value: app, flag: 'the app argument' };
  return values;
}

const workerClassInterfaces: Readonly<Record<string, string>> = {
  sync: 'wsgi',
  gthread: 'wsgi',
  gevent: 'wsgi',
  eventlet: 'wsgi',
  'uvicorn.workers.UvicornWorker': 'asgi',
  'uvicorn.workers.UvicornH11Worker': 'asgi',
  'uvicorn_worker.UvicornWorker': 'asgi',
};

function compatBindValues(parsed: Record<string, unknown>): string[] {
  const binds: string[] = [];
  const { host, port, uds, fd } = parsed as { host?: string; port?: string; uds?: string; fd?: string };
  if (host !== undefined || port !== undefined) {
    const name = host ?? '127.0.0.1';
    binds.push(`${name.includes(':') ? `[${name}]` : name}:${port ?? '8000'}`);
  }
  if (uds !== undefined) binds.push(`unix:${uds}`);
  if (fd !== undefined) binds.push(`fd://${fd}`);
  return binds;
}

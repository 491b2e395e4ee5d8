// The command-line options, generated from the settings table, plus uvicorn's
// --host/--port/--uds/--fd folded into bind, its boolean --access-log/--no-access-log, and
// gunicorn's and uvicorn's other flags as the drop-in rules say. Turns what commander parsed
// into raw values for @bicorn/config, which validates them, and into the notes and problems of
// the drop-in rules.
import { envNames, formatValue, settingKeys, settings, type CliValues, type Setting, type SettingKey } from '@bicorn/config';
import { Command, Option } from 'commander';
import { describeOutcome, dropinRules, outcomeOf, type FlagRule } from './dropin-rules.js';

interface SettingOption {
  readonly key: SettingKey;
  readonly flag: string;
  readonly option: Option;
}

interface RuleOption {
  readonly rule: Exclude<FlagRule, { kind: 'cli' }>;
  readonly option: Option;
}

export interface CommandOptions {
  readonly settings: readonly SettingOption[];
  readonly rules: readonly RuleOption[];
}

/** A note for the start of the log (and bicorn check): a flag that changes nothing, and why. */
export interface Note {
  readonly level: 'info' | 'warn';
  readonly text: string;
}

/** What a command line asks for: setting values, notes, and problems that stop bicorn (exit 2). */
export interface CommandLine {
  readonly values: CliValues;
  readonly notes: readonly Note[];
  readonly problems: readonly string[];
}

const compatFlags = ['--host', '--port', '--uds', '--fd'] as const;

/** Adds every setting's flags, and the drop-in flags, to a command; returns what reads them back. */
export function addSettingOptions(command: Command): CommandOptions {
  const added: SettingOption[] = [];
  for (const key of settingKeys) {
    const declared: Setting<unknown, unknown> = settings[key];
    const shortFlag = declared.flags.find((f) => !f.startsWith('--'));
    const longFlags = declared.flags.filter((f) => f.startsWith('--'));
    for (const [index, long] of longFlags.entries()) {
      // A sub-command's own option keeps its name: bicorn systemd --name is the unit's.
      if (isTaken(command, long)) continue;
      const names = index === 0 && shortFlag !== undefined ? `${shortFlag}, ${long}` : long;
      const value = declared.type.placeholder === '' ? '' : ` ${declared.type.placeholder}`;
      const option = new Option(`${names}${value}`, describe(key, declared)).helpGroup(`${declared.section}:`);
      if (Array.isArray(declared.default)) option.argParser(collect);
      // Aliases are accepted but not advertised.
      if (index > 0) option.hideHelp();
      command.addOption(option);
      added.push({ key, flag: long, option });
    }
  }
  command.addOption(new Option('--host <host>', 'Bind to this host, as in uvicorn (with --port).').helpGroup('Server:'));
  command.addOption(new Option('--port <port>', 'Bind to this port, as in uvicorn (with --host).').helpGroup('Server:'));
  command.addOption(new Option('--uds <path>', 'Bind to a unix socket, as in uvicorn.').hideHelp());
  command.addOption(new Option('--fd <n>', 'Bind to an inherited file descriptor, as in uvicorn.').hideHelp());
  command.addOption(new Option('--access-log', "uvicorn's: the access log to stdout (unless --access-logfile names a file).").hideHelp());
  command.addOption(new Option('--no-access-log', "uvicorn's: no access log.").hideHelp());
  return { settings: added, rules: addRuleOptions(command) };
}

/** gunicorn's and uvicorn's flags without a setting: accepted by the parser, then judged by their rule. */
function addRuleOptions(command: Command): RuleOption[] {
  const added: RuleOption[] = [];
  for (const rule of dropinRules) {
    // A sub-command's own option keeps its name: bicorn systemd --name is the unit's.
    if (rule.kind === 'cli' || rule.flags.some((flag) => isTaken(command, flag))) continue;
    const value = rule.kind === 'by-value' || rule.takes === 'value' ? ' <value>' : '';
    const shortFlag = rule.flags.find((f) => !f.startsWith('--'));
    // One option per long name (--paste and --paster), so that a note names the one given.
    for (const [index, long] of rule.flags.filter((f) => f.startsWith('--')).entries()) {
      const names = index === 0 && shortFlag !== undefined ? `${shortFlag}, ${long}` : long;
      const option = new Option(`${names}${value}`, 'gunicorn or uvicorn flag; see docs/dropin.md').hideHelp();
      if (long === '--worker-class') {
        option.description = "gunicorn's worker class, read as --interface: sync and gthread mean wsgi, asgi and uvicorn's workers asgi.";
        option.helpGroup('Application:').hideHelp(false);
      }
      command.addOption(option);
      added.push({ rule, option });
    }
  }
  return added;
}

function isTaken(command: Command, flag: string): boolean {
  return command.options.some((o) => o.short === flag || o.long === flag);
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

/**
 * A command that only parses: gunicorn's and uvicorn's environment (GUNICORN_CMD_ARGS, UVICORN_*)
 * read as the command line is, by the same options.
 */
export function settingsParser(name: string): { command: Command; options: CommandOptions } {
  const command = new Command(name)
    .argument('[app]')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .addOption(new Option('-c, --config <file>'))
    .addOption(new Option('--check-config'))
    .addOption(new Option('--print-config'));
  return { command, options: addSettingOptions(command) };
}

/**
 * Reads the parsed options back: raw values keyed by setting, each with the flag that gave it,
 * and the drop-in rules' verdicts. `origin` names where a flag came from in notes and problems
 * (a variable such as GUNICORN_CMD_ARGS); nothing for the command line.
 */
export function readCommandLine(command: Command, options: CommandOptions, app: string | undefined, origin: (flag: string) => string = () => ''): CommandLine {
  const parsed = command.opts<Record<string, unknown>>();
  const given = (option: Option): boolean => command.getOptionValueSource(option.attributeName()) === 'cli';
  const values: CliValues = {};
  for (const { key, flag, option } of options.settings) {
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
    const bind = values.bind;
    const flags = compatFlags.filter((f) => parsed[f.slice(2)] !== undefined);
    values.bind = {
      value: [...(Array.isArray(bind?.value) ? (bind.value as string[]) : []), ...compatBinds],
      flag: [bind?.flag, ...flags].filter((f) => f !== undefined).join('/'),
    };
  }
  const problems: string[] = [];
  // uvicorn's booleans: --access-log is stdout unless a file is named; --no-access-log is none.
  if (command.getOptionValueSource('accessLog') === 'cli') {
    if (parsed.accessLog === false && values.access_log !== undefined) problems.push(`${origin('--no-access-log')}--no-access-log and ${values.access_log.flag} contradict each other; keep one`);
    else values.access_log ??= parsed.accessLog === false ? { value: null, flag: '--no-access-log' } : { value: '-', flag: '--access-log' };
  }
  const notes: Note[] = [];
  for (const { rule, option } of options.rules) {
    const value = parsed[option.attributeName()];
    // --control-socket and --no-control-socket share one value too: the one given reports.
    if (!given(option) || option.negate !== (value === false)) continue;
    const flag = option.long ?? option.flags; // every rule option has a long name
    const outcome = outcomeOf(rule, value);
    const shown = rule.kind === 'by-value' ? value : undefined;
    switch (outcome.kind) {
      case 'same':
        break;
      case 'sets':
        values[outcome.key] ??= { value: outcome.value, flag };
        break;
      case 'ignored':
        notes.push({ level: 'info', text: `${origin(flag)}${describeOutcome(flag, shown, outcome)}` });
        break;
      case 'refused':
        problems.push(`${origin(flag)}${describeOutcome(flag, shown, outcome)}`);
        break;
    }
  }
  if (app !== undefined) values.app = { value: app, flag: 'the app argument' };
  return { values, notes, problems };
}

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

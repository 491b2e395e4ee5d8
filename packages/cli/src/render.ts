// What the CLI prints for people: errors, and the effective config of `bicorn check`.
import { describeSource, formatValue, settingKeys, settings, type LoadedConfig, type Setting, type SettingKey } from '@bicorn/config';
import { isBicornError } from '@bicorn/protocol';
import { formatBytes, planSpool } from '@bicorn/runtime';
import type { Note } from './options.js';

export function renderError(error: unknown, verbose: boolean): string {
  if (isBicornError(error)) {
    const internals = verbose && error.stack !== undefined ? `\n${error.stack}` : '';
    return `bicorn: error: ${error.message}${internals}\n`;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `bicorn: internal error (please report it): ${detail}\n`;
}

/** The table of `bicorn check`, then the notes serve would log at start (flags that change nothing, and why). */
export function renderEffectiveConfig(loaded: LoadedConfig, notes: readonly Note[] = []): string {
  const rows = settingKeys.map((key) => [key, shown(loaded, key), describeSource(loaded.sources[key])] as const);
  const keyWidth = Math.max(...rows.map(([key]) => key.length));
  const valueWidth = Math.min(40, Math.max(...rows.map(([, value]) => value.length)));
  const file = loaded.file === undefined ? 'no config file' : `config file ${loaded.file.label}`;
  const lines = rows.map(([key, value, source]) => `  ${key.padEnd(keyWidth)}  ${value.padEnd(valueWidth)}  ${source}`);
  const noted = notes.map((note) => `${note.level === 'warn' ? 'warning' : 'note'}: ${note.text}\n`).join('');
  return `configuration is valid (${file})\n  ${'setting'.padEnd(keyWidth)}  ${'value'.padEnd(valueWidth)}  from\n${lines.join('\n')}\n${noted}${renderDerived(loaded)}`;
}

/** What the settings come to on this machine, where a default depends on it. */
function renderDerived(loaded: LoadedConfig): string {
  const { config } = loaded;
  const spool = planSpool(config.spool_dir, config.spool_budget, config.workers);
  return `on this machine:\n  spool: ${formatBytes(spool.budgetBytes)} per worker in ${spool.dir} (${spool.reason})\n`;
}

/** Values of --env stay secret: only their names are shown; the rest as help and SETTINGS.md show them. */
function shown(loaded: LoadedConfig, key: SettingKey): string {
  if (key === 'env') return JSON.stringify(loaded.config.env.map((pair) => `${pair.slice(0, pair.indexOf('='))}=…`));
  const declared: Setting<unknown, unknown> = settings[key];
  return formatValue(declared.type, loaded.config[key]);
}

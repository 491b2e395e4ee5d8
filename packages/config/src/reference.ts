// The settings reference (SETTINGS.md), generated from the settings table.
import { formatValue } from './values.js';
import { envNames, settingKeys, settings, type Section, type Setting, type SettingKey } from './settings.js';

export function renderSettingsReference(): string {
  const lines = [
    '# bicorn settings',
    '',
    '<!-- Generated from packages/config/src/settings.ts by `pnpm settings:md`; a test checks it is current. -->',
    '',
    'Every setting can be given on the command line, as an environment variable, or in a config file',
    '(`bicorn.config.{js,mjs,cjs,json,yaml,yml}`, `.bicornrc[.json|.yaml|.yml]`, the `"bicorn"` key of',
    '`package.json`, or the file named with `-c/--config`). The command line wins over `BICORN_*`',
    "variables, which win over gunicorn's and uvicorn's environment (`GUNICORN_CMD_ARGS`, `UVICORN_*`,",
    '`PORT`, `WEB_CONCURRENCY`, `FORWARDED_ALLOW_IPS`: see [docs/dropin.md](../../docs/dropin.md)), which',
    'wins over the file, which wins over the default. In the environment, list values are separated by',
    'commas. Durations are seconds, or a number with a unit: `500ms`, `30s`, `2m`.',
    '',
  ];
  for (const [section, keys] of bySection()) {
    lines.push(`## ${section}`, '', '| key | flags | environment | default | |', '|---|---|---|---|---|');
    for (const key of keys) {
      const declared: Setting<unknown, unknown> = settings[key];
      const flags = declared.flags.map((f) => `\`${f}\``).join(' ');
      const env = envNames(key).map((n) => `\`${n}\``).join(' ');
      lines.push(`| \`${key}\` | ${flags} | ${env} | ${formatDefault(key)} | ${escapeCell(declared.doc)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function formatDefault(key: SettingKey): string {
  const declared: Setting<unknown, unknown> = settings[key];
  if (declared.default === null) return 'unset';
  if (Array.isArray(declared.default) && declared.default.length === 0) return 'none';
  return `\`${formatValue(declared.type, declared.default)}\``;
}

function bySection(): Map<Section, SettingKey[]> {
  const sections = new Map<Section, SettingKey[]>();
  for (const key of settingKeys) {
    const section = settings[key].section;
    sections.set(section, [...(sections.get(section) ?? []), key]);
  }
  return sections;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

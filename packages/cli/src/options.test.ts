import { formatValue, resolveConfig, settings } from '@bicorn/config';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addSettingOptions, cliValues } from './options.js';
import { renderEffectiveConfig } from './render.js';

describe('how settings are shown', () => {
  it('gives file modes in octal in help, SETTINGS.md and bicorn check alike', () => {
    const command = new Command('serve');
    addSettingOptions(command);
    expect(command.helpInformation()).toMatch(/--socket-mode <octal>[\s\S]*?\(default:\s+660;/);
    expect(formatValue(settings.socket_mode.type, settings.socket_mode.default)).toBe('660');
    const check = renderEffectiveConfig(resolveConfig({ umask: { value: '027', flag: '--umask' } }, {}, undefined));
    expect(check).toMatch(/^ {2}socket_mode +660 /m);
    expect(check).toMatch(/^ {2}umask +027 /m);
  });
});

describe('flags that come in pairs', () => {
  it('name the one that was given: --proxy-headers or --no-proxy-headers', () => {
    for (const [given, value] of [['--proxy-headers', true], ['--no-proxy-headers', false]] as const) {
      const command = new Command('serve').exitOverride();
      const options = addSettingOptions(command);
      command.parse([given], { from: 'user' });
      expect(cliValues(command, options, undefined).proxy_headers).toEqual({ value, flag: given });
    }
  });
});

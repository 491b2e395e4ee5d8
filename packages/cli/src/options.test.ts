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

describe('reading the command line', () => {
  const parse = (argv: string[]) => {
    const command = new Command('serve').exitOverride();
    const options = addSettingOptions(command);
    command.parse(argv, { from: 'user' });
    return cliValues(command, options, undefined);
  };

  it('names the flag of a pair that was given: --proxy-headers or --no-proxy-headers', () => {
    expect(parse(['--proxy-headers']).proxy_headers).toEqual({ value: true, flag: '--proxy-headers' });
    expect(parse(['--no-proxy-headers']).proxy_headers).toEqual({ value: false, flag: '--no-proxy-headers' });
  });

  it('tells --control-socket PATH from --no-control-socket, which commander pairs', () => {
    expect(parse(['--control-socket', '/run/app.ctl'])).toEqual({ control_socket: { value: '/run/app.ctl', flag: '--control-socket' } });
    expect(parse(['--no-control-socket'])).toEqual({ no_control_socket: { value: true, flag: '--no-control-socket' } });
    expect(parse([])).toEqual({});
  });
});

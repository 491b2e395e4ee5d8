import { formatValue, resolveConfig, settings } from '@bicorn/config';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addSettingOptions, readCommandLine, settingsParser } from './options.js';
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
  const read = (argv: string[]) => {
    const { command, options } = settingsParser('test');
    command.parse(argv, { from: 'user' });
    return readCommandLine(command, options, undefined);
  };

  it('names the flag of a pair that was given: --proxy-headers or --no-proxy-headers', () => {
    expect(read(['--proxy-headers']).values.proxy_headers).toEqual({ value: true, flag: '--proxy-headers' });
    expect(read(['--no-proxy-headers']).values.proxy_headers).toEqual({ value: false, flag: '--no-proxy-headers' });
  });

  it('tells --control-socket PATH from --no-control-socket, which commander pairs', () => {
    expect(read(['--control-socket', '/run/app.ctl']).values).toEqual({ control_socket: { value: '/run/app.ctl', flag: '--control-socket' } });
    expect(read(['--no-control-socket']).values).toEqual({ no_control_socket: { value: true, flag: '--no-control-socket' } });
    expect(read([]).values).toEqual({});
  });

  it('reports a flag of gunicorn or uvicorn that bicorn refuses once, by the name given', () => {
    expect(read(['--paster', 'production.ini']).problems).toEqual([expect.stringMatching(/^--paster is not supported: /)]);
  });

  it('sets what a peer flag means, and notes what has no effect', () => {
    const line = read(['-k', 'gthread', '--worker-tmp-dir', '/dev/shm', '--protocol', 'http']);
    expect(line.values.interface).toEqual({ value: 'wsgi', flag: '--worker-class' });
    expect(line.notes).toEqual([{ level: 'info', text: expect.stringMatching(/^--worker-tmp-dir has no effect: /) as unknown }]);
    expect(line.problems).toEqual([]);
  });
});

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

describe('flags of gunicorn and uvicorn without a setting', () => {
  const read = (argv: string[]) => {
    const { command, options } = settingsParser('test');
    command.parse(argv, { from: 'user' });
    return readCommandLine(command, options, undefined);
  };

  it('are reported once, by the name given, even where a flag and its --no- form share one value', () => {
    expect(read(['--control-socket', '/run/app.ctl']).problems).toEqual([expect.stringMatching(/^--control-socket is not supported yet: issue 15/)]);
    expect(read(['--no-control-socket']).problems).toEqual([expect.stringMatching(/^--no-control-socket is not supported yet: issue 15/)]);
    expect(read(['--paster', 'production.ini']).problems).toEqual([expect.stringMatching(/^--paster is not supported: /)]);
  });

  it('set what their value means, and note what has no effect', () => {
    const line = read(['-k', 'gthread', '--worker-tmp-dir', '/dev/shm', '--protocol', 'http']);
    expect(line.values.interface).toEqual({ value: 'wsgi', flag: '--worker-class' });
    expect(line.notes).toEqual([{ level: 'info', text: expect.stringMatching(/^--worker-tmp-dir has no effect: /) as unknown }]);
    expect(line.problems).toEqual([]);
  });
});

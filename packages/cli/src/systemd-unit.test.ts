import { resolveConfig, type ConfigInput } from '@bicorn/config';
import { describe, expect, it } from 'vitest';
import { quoteArgument, renderServiceUnit, renderSocketUnit, unitName, type UnitInput } from './systemd-unit.js';

function input(values: ConfigInput, extra: Partial<UnitInput> = {}): UnitInput {
  const { config } = resolveConfig({}, {}, { path: '/srv/app/bicorn.config.json', label: 'bicorn.config.json', values });
  return {
    config,
    name: 'app',
    command: ['/usr/bin/node', '/usr/lib/node_modules/bicorn/bin/bicorn.js', 'serve', '-c', '/srv/app/bicorn.config.json'],
    workingDirectory: '/srv/app',
    environment: [],
    socket: false,
    systemdVersion: 254,
    origin: 'bicorn.config.json',
    ...extra,
  };
}

const linesOf = (text: string): string[] => text.split('\n').filter((line) => !line.startsWith('#'));

describe('the service unit', () => {
  it('is Type=notify-reload from systemd 253 on, else Type=notify with a reload by signal', () => {
    expect(linesOf(renderServiceUnit(input({})))).toEqual(expect.arrayContaining(['Type=notify-reload', 'ReloadSignal=SIGHUP', 'NotifyAccess=main']));
    const old = linesOf(renderServiceUnit(input({}, { systemdVersion: 252 })));
    expect(old).toEqual(expect.arrayContaining(['Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID']));
    expect(old).not.toContain('Type=notify-reload');
  });

  it('starts bicorn by its resolved paths and config file, in the working directory', () => {
    const unit = linesOf(renderServiceUnit(input({}, { environment: [['BICORN_WORKERS', '4']] })));
    expect(unit).toContain('ExecStart=/usr/bin/node /usr/lib/node_modules/bicorn/bin/bicorn.js serve -c /srv/app/bicorn.config.json');
    expect(unit).toContain('WorkingDirectory=/srv/app');
    expect(unit).toContain('Environment=BICORN_WORKERS=4');
  });

  it('gives systemd time for the whole graceful stop, and signals the master alone', () => {
    const unit = linesOf(renderServiceUnit(input({ graceful_timeout: 20, shutdown_delay: 5, timeout: 15 })));
    expect(unit).toEqual(expect.arrayContaining(['KillSignal=SIGTERM', 'KillMode=mixed', 'TimeoutStopSec=35', 'WatchdogSec=15']));
  });

  it('runs as the user, with only the capability a privileged port needs', () => {
    const unit = linesOf(renderServiceUnit(input({ user: 'mysite', group: 'www-data', bind: ['0.0.0.0:80'] })));
    expect(unit).toEqual(expect.arrayContaining(['User=mysite', 'Group=www-data', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE']));
    const activated = linesOf(renderServiceUnit(input({ user: 'mysite', bind: ['0.0.0.0:80'] }, { socket: true })));
    expect(activated).toEqual(expect.arrayContaining(['User=mysite', 'CapabilityBoundingSet=', 'Requires=app.socket']));
    expect(activated.some((l) => l.startsWith('AmbientCapabilities'))).toBe(false);
    expect(renderServiceUnit(input({}))).toContain('# No user in the config: the master and the workers run as root.');
  });

  it('makes writable only the directories bicorn writes, with systemd managing /run and /var/log ones', () => {
    const unit = linesOf(renderServiceUnit(input({ bind: ['unix:/run/app/bicorn.sock'], access_log: '/var/log/app/access.log', pid: '/srv/state/app.pid', control_socket: '/srv/control/app.ctl' })));
    expect(unit).toEqual(expect.arrayContaining(['RuntimeDirectory=app', 'LogsDirectory=app', 'ReadWritePaths=-/srv/state', 'ReadWritePaths=-/srv/control', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'PrivateTmp=yes', 'ProtectHome=yes']));
    expect(unit.some((l) => l.startsWith('MemoryDenyWriteExecute'))).toBe(false);
  });

  it('loosens PrivateTmp and ProtectHome only when a socket or the app lives there', () => {
    const unit = linesOf(renderServiceUnit(input({ bind: ['unix:/tmp/app.sock'] }, { workingDirectory: '/home/me/app' })));
    expect(unit).toEqual(expect.arrayContaining(['PrivateTmp=no', 'ProtectHome=read-only']));
  });
});

describe('the socket unit', () => {
  it('listens on the TCP and unix addresses with backlog, mode and owner', () => {
    const unit = linesOf(renderSocketUnit(input({ bind: ['0.0.0.0:80', '[::1]:8000', 'unix:/run/app/bicorn.sock', 'fd://3'], backlog: 512, user: 'mysite', group: 'www-data', socket_mode: '0660' })));
    expect(unit).toEqual(expect.arrayContaining(['ListenStream=0.0.0.0:80', 'ListenStream=[::1]:8000', 'ListenStream=/run/app/bicorn.sock', 'Backlog=512', 'SocketMode=0660', 'SocketUser=mysite', 'SocketGroup=www-data', 'WantedBy=sockets.target']));
    expect(renderSocketUnit(input({ bind: ['fd://3'] }))).toContain('# not here: fd://3 is not an address systemd can bind');
  });

  it('takes the owner from socket_owner first', () => {
    const unit = linesOf(renderSocketUnit(input({ bind: ['unix:/run/a.sock'], user: 'mysite', socket_owner: ':www-data' })));
    expect(unit).toContain('SocketGroup=www-data');
    expect(unit.some((l) => l.startsWith('SocketUser'))).toBe(false);
  });
});

describe('ExecStart words', () => {
  it('escapes specifiers and variables, and quotes what has spaces or quotes', () => {
    expect(quoteArgument('--workers')).toBe('--workers');
    expect(quoteArgument('KEY=100%')).toBe('KEY=100%%');
    expect(quoteArgument('$HOME')).toBe('"$$HOME"');
    expect(quoteArgument('a b"c\\')).toBe('"a b\\"c\\\\"');
  });

  it('names the unit after the app', () => {
    expect(unitName('mysite.wsgi:application')).toBe('mysite');
    expect(unitName('./srv/server.mjs:app')).toBe('server');
    expect(unitName(null)).toBe('bicorn');
  });
});

import { describe, expect, it } from 'vitest';
import { parseControlRequest, parseControlResponse } from './control.js';

describe('control socket requests', () => {
  it('reads each command with its options', () => {
    expect(parseControlRequest({ command: 'status' })).toEqual({ command: 'status' });
    expect(parseControlRequest({ command: 'reload', wait: false })).toEqual({ command: 'reload', wait: false });
    expect(parseControlRequest({ command: 'stop', mode: 'fast', wait: true })).toEqual({ command: 'stop', mode: 'fast', wait: true });
    expect(parseControlRequest({ command: 'scale', to: 4, wait: true })).toEqual({ command: 'scale', to: 4, wait: true });
    expect(parseControlRequest({ command: 'scale', by: -1, wait: false })).toEqual({ command: 'scale', by: -1, wait: false });
  });

  it.each([
    [{ command: 'restart' }, 'unknown command "restart"; the commands are status, reload, stop, scale and reopen-logs'],
    [{ command: 'scale', to: 0, wait: true }, 'scale.to: expected a worker count of 1 or more, got number'],
    [{ command: 'scale', by: 0, wait: true }, 'scale.by: expected a change other than 0, such as 2 or -1, got number'],
    [{ command: 'stop', mode: 'now', wait: true }, 'stop.mode: expected "graceful" or "fast", got "now"'],
    [['status'], 'expected an object with a command, got an array'],
  ])('refuses %j, saying why', (request, reason) => {
    expect(() => parseControlRequest(request)).toThrow(`invalid control socket message: ${reason}`);
  });
});

describe('control socket answers', () => {
  it('reads a success, a failure, and a status report row by row', () => {
    expect(parseControlResponse({ ok: true, message: 'reloaded' })).toEqual({ ok: true, message: 'reloaded' });
    expect(parseControlResponse({ ok: false, error: 'bicorn is stopping' })).toEqual({ ok: false, error: 'bicorn is stopping' });
    const row = { id: 3, pid: 10, pythonPid: null, generation: 2, state: 'ready', ageSeconds: 1.5, served: 7, inFlight: 0, rssBytes: 1024, restartCause: 'reload', appFree: false, waiting: 3, pythonRestarts: 1 };
    const status = { protocol: 1, version: '0.1.0', pid: 9, app: 'app:app', phase: 'running', uptimeSeconds: 3, generation: 2, workers: 1, configFile: null, listeners: ['127.0.0.1:8000'], metrics: null, restarts: 0, rows: [row] };
    expect(parseControlResponse({ ok: true, message: '', status })).toEqual({ ok: true, message: '', status });
    expect(() => parseControlResponse({ ok: true, message: '', status: { ...status, rows: [{ ...row, served: -1 }] } })).toThrow('status.rows.served: expected a count or null, got number');
    expect(() => parseControlResponse({ ok: true, message: '', status: { ...status, rows: [{ ...row, appFree: 'yes' }] } })).toThrow('status.rows.appFree: expected true, false or null, got "yes"');
  });
});

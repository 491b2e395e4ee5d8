import { describe, expect, it } from 'vitest';
import { jsonAccessLine, prettyAccessLine } from './access-log.js';
import { formatLine } from './pretty.js';

const at = Date.UTC(2026, 0, 1, 8, 5, 3, 250);
const entry = { remote: '127.0.0.1:50000', method: 'GET', path: '/x?y=1', httpVersion: '1.1', status: 200, bytes: 120, durationMs: 1.234 };

describe('pretty log lines', () => {
  it('shows time, level, the process and the message, then the data', () => {
    const json = JSON.stringify({ level: 30, time: at, role: 'master', pid: 1, msg: 'listening', addresses: ['127.0.0.1:8000'] });
    expect(formatLine(json, false)).toBe('08:05:03.250 INFO  master    listening addresses=["127.0.0.1:8000"]\n');
  });

  it('names the worker and prints an error stack below the line', () => {
    const json = JSON.stringify({ level: 50, time: 0, role: 'worker', worker: 2, msg: 'app failed', err: { stack: 'Error: boom\n    at app.mjs:1' } });
    expect(formatLine(json, false)).toBe('00:00:00.000 ERROR worker 2  app failed\nError: boom\n    at app.mjs:1\n');
  });

  it('passes through a line that is not JSON', () => {
    expect(formatLine('plain\n', false)).toBe('plain\n');
  });
});

describe('access lines', () => {
  it('has the time, remote address, request line, status, bytes and duration', () => {
    expect(prettyAccessLine(entry, at)).toBe('08:05:03.250 127.0.0.1:50000 "GET /x?y=1 HTTP/1.1" 200 120 1.2ms\n');
  });

  it('as JSON, has the fields of the server log of the same style', () => {
    expect(JSON.parse(jsonAccessLine(entry, 2, 'bicorn', at))).toEqual({
      time: '2026-01-01T08:05:03.250Z',
      level: 'info',
      role: 'worker',
      worker: 2,
      msg: 'access',
      remote: '127.0.0.1:50000',
      method: 'GET',
      path: '/x?y=1',
      http: '1.1',
      status: 200,
      bytes: 120,
      ms: 1.23,
    });
  });

  it("keeps Datadog's status for the level and puts the response's in http.status_code", () => {
    const line = JSON.parse(jsonAccessLine(entry, 2, 'datadog', at)) as Record<string, unknown>;
    expect(line).toMatchObject({ timestamp: '2026-01-01T08:05:03.250Z', status: 'info', message: 'access', 'http.status_code': 200 });
  });

  it('marks a response from a static directory', () => {
    const entry = { remote: '127.0.0.1:50000', method: 'GET', path: '/static/a.css', httpVersion: '1.1', status: 200, bytes: 120, durationMs: 0.25, static: true };
    expect(prettyAccessLine(entry, at)).toBe('08:05:03.250 127.0.0.1:50000 "GET /static/a.css HTTP/1.1" 200 120 0.3ms static\n');
    expect(JSON.parse(jsonAccessLine(entry, 1, 'bicorn', at))).toMatchObject({ path: '/static/a.css', static: true });
    expect(JSON.parse(jsonAccessLine({ ...entry, static: false }, 1, 'bicorn', at))).not.toHaveProperty('static');
  });
});

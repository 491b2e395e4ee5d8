import { describe, expect, it } from 'vitest';
import { formatLine } from './pretty.js';

const at = Date.UTC(2026, 0, 1, 8, 5, 3, 250);

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

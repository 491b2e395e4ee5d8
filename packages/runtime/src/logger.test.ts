import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonStyle } from './json-style.js';
import { createLogger } from './logger.js';

const dir = mkdtempSync(join(tmpdir(), 'bicorn-logger-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function logLine(jsonStyle: JsonStyle): Record<string, unknown> {
  const file = join(dir, `${jsonStyle}.log`);
  const { log, destination } = createLogger({ role: 'worker', workerId: 3, level: 'info', format: 'json', jsonStyle, destination: file });
  log.warn({ inFlight: 2 }, 'draining');
  destination.flush();
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('JSON log lines', () => {
  it('carry a level name and an ISO 8601 time by default', () => {
    const line = logLine('bicorn');
    expect(line).toMatchObject({ level: 'warn', msg: 'draining', role: 'worker', worker: 3, inFlight: 2 });
    expect(line.time).toMatch(iso);
  });

  it.each([
    ['ecs', { 'log.level': 'warn', message: 'draining', 'ecs.version': '8.11.0' }, '@timestamp'],
    ['gcp', { severity: 'WARNING', message: 'draining' }, 'time'],
    ['datadog', { status: 'warn', message: 'draining' }, 'timestamp'],
  ] as const)('use the field names of the %s style', (style, fields, timeKey) => {
    const line = logLine(style);
    expect(line).toMatchObject(fields);
    expect(line[timeKey]).toMatch(iso);
    expect(line).not.toHaveProperty('msg');
  });

  it("keep pino's numbers in the pino style", () => {
    const line = logLine('pino');
    expect(line).toMatchObject({ level: 40, msg: 'draining' });
    expect(typeof line.time).toBe('number');
  });
});

import { describe, expect, it } from 'vitest';
import { parseWorkerMessage } from './ipc.js';
import { durationBuckets, limitKinds, metricMethods, statusClasses } from './worker-stats.js';

const counts = {
  requests: new Array<number>(metricMethods.length * statusClasses.length).fill(0),
  durations: new Array<number>(durationBuckets.length + 1).fill(0),
  durationSeconds: 0.25,
  requestBytes: 100,
  responseBytes: 2000,
  timeouts: 0,
  staticResponses: 3,
  rejections: new Array<number>(limitKinds.length).fill(0),
};
const stats = { type: 'stats', interface: 'wsgi', served: 12, inFlight: 1, webSockets: 0, rss: 50_000_000, pythonPid: 42, pythonRss: 30_000_000, pythonCpuSeconds: 0.5, loopLagSeconds: 0.001, counts };

describe('the stats message', () => {
  it('is read whole, with or without counts', () => {
    expect(parseWorkerMessage(stats)).toEqual(stats);
    expect(parseWorkerMessage({ ...stats, counts: null, pythonPid: null, pythonRss: null, pythonCpuSeconds: null, loopLagSeconds: null })).toMatchObject({ counts: null });
  });

  it.each([
    [{ ...stats, interface: 'cgi' }, 'stats.interface: expected one of wsgi, asgi, fetch, node, none, got "cgi"'],
    [{ ...stats, served: 1.5 }, 'stats.served: expected a count, got number'],
    [{ ...stats, counts: { ...counts, requests: [1, 2] } }, `stats.counts.requests: expected ${String(counts.requests.length)} counts, got an array`],
    [{ ...stats, counts: { ...counts, timeouts: -1 } }, 'stats.counts.timeouts: expected a count, got number'],
  ])('refuses a report whose fields are off (%#)', (message, reason) => {
    expect(() => parseWorkerMessage(message)).toThrow(`internal error: invalid message between master and worker: ${reason}`);
  });
});

import { durationBuckets, limitKinds, metricMethods, statusClasses } from '@bicorn/protocol';
import { describe, expect, it } from 'vitest';
import { RequestMetrics } from './metrics.js';

const at = (method: string, status: string) => metricMethods.indexOf(method as (typeof metricMethods)[number]) * statusClasses.length + statusClasses.indexOf(status as (typeof statusClasses)[number]);

describe('the worker counting requests', () => {
  it('counts by method and status class, a rare method as other, each duration in its bucket, and static responses', () => {
    const metrics = new RequestMetrics(true);
    metrics.requestEnded('GET', 200, 0.001, 80, 200, true);
    metrics.requestEnded('GET', 304, 0.02, 80, 100, true);
    metrics.requestEnded('PROPFIND', 207, 3, 90, 500, false);
    metrics.requestEnded('POST', 503, 20, 1000, 60, false);
    metrics.requestTimedOut();
    for (const kind of limitKinds) metrics.limitRejected(kind);
    const counts = metrics.take();
    expect(metrics.served).toBe(4);
    expect(counts?.requests[at('GET', '2xx')]).toBe(1);
    expect(counts?.requests[at('GET', '3xx')]).toBe(1);
    expect(counts?.requests[at('other', '2xx')]).toBe(1);
    expect(counts?.requests[at('POST', '5xx')]).toBe(1);
    expect(counts?.requests.reduce((a, b) => a + b)).toBe(4);
    expect(counts?.durations).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    expect(counts?.durations).toHaveLength(durationBuckets.length + 1);
    expect(counts).toMatchObject({ durationSeconds: 23.021, requestBytes: 1250, responseBytes: 860, timeouts: 1, staticResponses: 2, rejections: limitKinds.map(() => 1) });
  });

  it('starts again from zero after each report, and counts only what was served without --metrics-bind', () => {
    const metrics = new RequestMetrics(true);
    metrics.requestEnded('GET', 200, 0.001, 1, 1, false);
    metrics.take();
    expect(metrics.take()?.requests.every((n) => n === 0)).toBe(true);
    const plain = new RequestMetrics(false);
    plain.requestEnded('GET', 200, 0, 1, 1, false);
    expect(plain.served).toBe(1);
    expect(plain.take()).toBeNull();
  });
});

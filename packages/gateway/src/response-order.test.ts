import { describe, expect, it } from 'vitest';
import { advance, AWAITING_START, COMPLETE, FAILED, type ResponsePhase, type ResponseStep } from './response-order.js';

/** Runs the steps from the start and returns the last verdict. */
function run(...steps: ResponseStep[]) {
  let phase: ResponsePhase = AWAITING_START;
  for (const [index, step] of steps.entries()) {
    const verdict = advance(phase, step);
    if (!verdict.ok || index === steps.length - 1) return verdict;
    phase = verdict.phase;
  }
  throw new Error('no steps');
}

const start = { kind: 'start', trailers: false } as const;
const startWithTrailers = { kind: 'start', trailers: true } as const;
const more = { kind: 'body', more: true } as const;
const last = { kind: 'body', more: false } as const;

describe('advance', () => {
  it('accepts start, streamed bodies, then a final body', () => {
    expect(run(start)).toEqual({ ok: true, phase: { kind: 'awaiting-body', trailers: false, streaming: false } });
    expect(run(start, more)).toEqual({ ok: true, phase: { kind: 'awaiting-body', trailers: false, streaming: true } });
    expect(run(start, more, last)).toEqual({ ok: true, phase: COMPLETE });
  });

  it('refuses a body before the start', () => {
    expect(run(last)).toEqual({ ok: false, rule: 'http.response.body sent before http.response.start' });
  });

  it('refuses a second start, before or after body events', () => {
    expect(run(start, start)).toEqual({ ok: false, rule: 'http.response.start sent twice' });
    expect(run(start, more, start)).toEqual({ ok: false, rule: 'http.response.start sent twice' });
  });

  it('refuses anything after the final body', () => {
    expect(run(start, last, last)).toEqual({ ok: false, rule: 'http.response.body sent after the final http.response.body' });
    expect(run(start, last, start)).toEqual({ ok: false, rule: 'http.response.start sent after the final http.response.body' });
  });

  it('refuses anything once the response has failed', () => {
    expect(advance(FAILED, more)).toMatchObject({ ok: false });
  });

  it('waits for trailers after the final body when the start announced them', () => {
    expect(run(startWithTrailers, last)).toEqual({ ok: true, phase: { kind: 'awaiting-trailers' } });
    expect(run(startWithTrailers, last, { kind: 'trailers', more: true }, { kind: 'trailers', more: false })).toEqual({ ok: true, phase: COMPLETE });
    expect(run(startWithTrailers, last, last)).toEqual({ ok: false, rule: 'http.response.body sent after the final http.response.body, where http.response.trailers was due' });
    expect(run(startWithTrailers, more, { kind: 'trailers', more: false })).toMatchObject({ ok: false, rule: 'http.response.trailers sent before the final http.response.body' });
    expect(run(start, { kind: 'trailers', more: false })).toMatchObject({ ok: false, rule: 'http.response.trailers sent, but http.response.start did not announce trailers' });
  });

  it('takes a pathsend in place of the body, but not after part of one', () => {
    expect(run(start, { kind: 'pathsend' })).toEqual({ ok: true, phase: COMPLETE });
    expect(run(startWithTrailers, { kind: 'pathsend' })).toEqual({ ok: true, phase: { kind: 'awaiting-trailers' } });
    expect(run(start, more, { kind: 'pathsend' })).toEqual({ ok: false, rule: 'http.response.pathsend sent after http.response.body' });
    expect(run({ kind: 'pathsend' })).toMatchObject({ ok: false });
  });

  it('takes early hints only before the start', () => {
    expect(run({ kind: 'early_hint' }, { kind: 'early_hint' }, start)).toMatchObject({ ok: true });
    expect(run(start, { kind: 'early_hint' })).toEqual({ ok: false, rule: 'http.response.early_hint sent after http.response.start' });
  });
});

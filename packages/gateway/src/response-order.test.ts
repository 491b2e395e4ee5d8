import { describe, expect, it } from 'vitest';
import { advance } from './response-order.js';

describe('advance', () => {
  it('accepts start, streamed bodies, then a final body', () => {
    expect(advance('awaiting-start', 'start', false)).toEqual({ ok: true, phase: 'awaiting-body' });
    expect(advance('awaiting-body', 'body', true)).toEqual({ ok: true, phase: 'awaiting-body' });
    expect(advance('awaiting-body', 'body', false)).toEqual({ ok: true, phase: 'complete' });
  });

  it('refuses a body before the start', () => {
    expect(advance('awaiting-start', 'body', false)).toEqual({ ok: false, rule: 'http.response.body sent before http.response.start' });
  });

  it('refuses a second start, before or after body events', () => {
    expect(advance('awaiting-body', 'start', false)).toEqual({ ok: false, rule: 'http.response.start sent twice' });
  });

  it('refuses anything after the final body', () => {
    expect(advance('complete', 'body', false)).toEqual({ ok: false, rule: 'http.response.body sent after the final http.response.body' });
    expect(advance('complete', 'start', false)).toEqual({ ok: false, rule: 'http.response.start sent after the final http.response.body' });
  });

  it('refuses anything once the response has failed', () => {
    expect(advance('failed', 'body', true)).toMatchObject({ ok: false });
  });
});

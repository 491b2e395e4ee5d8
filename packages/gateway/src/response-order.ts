// The ASGI HTTP response event order as a pure state machine: start once, then body events
// until one without more_body. Runs in the worker.
import { assertNever } from '@bicorn/protocol';

export type ResponsePhase = 'awaiting-start' | 'awaiting-body' | 'complete' | 'failed';

export type OrderVerdict =
  | { readonly ok: true; readonly phase: ResponsePhase }
  | { readonly ok: false; readonly rule: string };

export function advance(phase: ResponsePhase, kind: 'start' | 'body', moreBody: boolean): OrderVerdict {
  switch (phase) {
    case 'awaiting-start':
      return kind === 'start'
        ? { ok: true, phase: 'awaiting-body' }
        : { ok: false, rule: 'http.response.body sent before http.response.start' };
    case 'awaiting-body':
      if (kind === 'start') return { ok: false, rule: 'http.response.start sent twice' };
      return { ok: true, phase: moreBody ? 'awaiting-body' : 'complete' };
    case 'complete':
      return { ok: false, rule: `${kind === 'start' ? 'http.response.start' : 'http.response.body'} sent after the final http.response.body` };
    case 'failed':
      return { ok: false, rule: 'event sent after the response had already failed' };
    default:
      return assertNever(phase, 'response phase');
  }
}

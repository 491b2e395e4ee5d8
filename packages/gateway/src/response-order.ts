// The ASGI HTTP response event order as a pure state machine (protocol's send/SPEC.md): early
// hints before the start, the start once, body events until one without more_body (or one
// pathsend instead of them), then the trailers if the start announced them. Runs in the worker.
import { assertNever } from '@bicorn/protocol';

export type ResponsePhase =
  | { readonly kind: 'awaiting-start' }
  /** `streaming`: a body event with more_body has been sent, so a pathsend can no longer be. */
  | { readonly kind: 'awaiting-body'; readonly trailers: boolean; readonly streaming: boolean }
  | { readonly kind: 'awaiting-trailers' }
  | { readonly kind: 'complete' }
  | { readonly kind: 'failed' };

export type ResponseStep =
  | { readonly kind: 'start'; readonly trailers: boolean }
  | { readonly kind: 'body'; readonly more: boolean }
  | { readonly kind: 'trailers'; readonly more: boolean }
  | { readonly kind: 'pathsend' }
  | { readonly kind: 'early_hint' };

export type OrderVerdict = { readonly ok: true; readonly phase: ResponsePhase } | { readonly ok: false; readonly rule: string };

export const AWAITING_START: ResponsePhase = { kind: 'awaiting-start' };
export const COMPLETE: ResponsePhase = { kind: 'complete' };
export const FAILED: ResponsePhase = { kind: 'failed' };
const AWAITING_TRAILERS: ResponsePhase = { kind: 'awaiting-trailers' };

const EVENT_NAMES = {
  start: 'http.response.start',
  body: 'http.response.body',
  trailers: 'http.response.trailers',
  pathsend: 'http.response.pathsend',
  early_hint: 'http.response.early_hint',
} as const;

export function advance(phase: ResponsePhase, step: ResponseStep): OrderVerdict {
  const name = EVENT_NAMES[step.kind];
  switch (phase.kind) {
    case 'awaiting-start':
      if (step.kind === 'start') return ok({ kind: 'awaiting-body', trailers: step.trailers, streaming: false });
      if (step.kind === 'early_hint') return ok(phase);
      return refuse(`${name} sent before http.response.start`);
    case 'awaiting-body': {
      if (step.kind === 'start') return refuse('http.response.start sent twice');
      if (step.kind === 'body') {
        if (step.more) return ok(phase.streaming ? phase : { ...phase, streaming: true });
        return ok(phase.trailers ? AWAITING_TRAILERS : COMPLETE);
      }
      if (step.kind === 'pathsend') {
        if (phase.streaming) return refuse('http.response.pathsend sent after http.response.body');
        return ok(phase.trailers ? AWAITING_TRAILERS : COMPLETE);
      }
      if (step.kind === 'trailers') {
        if (!phase.trailers) return refuse('http.response.trailers sent, but http.response.start did not announce trailers');
        return refuse('http.response.trailers sent before the final http.response.body');
      }
      return refuse('http.response.early_hint sent after http.response.start');
    }
    case 'awaiting-trailers':
      if (step.kind === 'trailers') return ok(step.more ? phase : COMPLETE);
      return refuse(`${name} sent after the final http.response.body, where http.response.trailers was due`);
    case 'complete':
      return refuse(`${name} sent after the final http.response.body`);
    case 'failed':
      return refuse('event sent after the response had already failed');
    default:
      return assertNever(phase, 'response phase');
  }
}

function ok(phase: ResponsePhase): OrderVerdict {
  return { ok: true, phase };
}

function refuse(rule: string): OrderVerdict {
  return { ok: false, rule };
}

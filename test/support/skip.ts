// Why a suite or test skips, in its name, where the summary (./skip-reasons.ts) finds it.

/** ` (skipped: reason)` when `skip`, else nothing: append it to the name of what skipIf skips. */
export function skipped(skip: boolean, reason: string): string {
  return skip ? ` (skipped: ${reason})` : '';
}

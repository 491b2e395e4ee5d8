// The Content-Length an app declared, as a promise to the client: which responses it binds, and
// the rule a body breaks. node:http (strictContentLength off) writes whatever bytes come, so a
// body that breaks it would run into the next response of a keep-alive connection. Pure; runs
// in the worker, for the ASGI gateway, the fetch host and the Python host.

/** Whether a Content-Length value is one number of bytes (not "abc", nor "3, 3" for two headers). */
export function isByteCount(value: string): boolean {
  return /^\d{1,15}$/.test(value);
}

/**
 * The value of the content-length header, whatever its case. The caller has checked it with
 * isByteCount, and that there is at most one: parseHeaders for ASGI apps, the runner for
 * Python apps, writeFetchResponse for a fetch Response.
 */
export function contentLengthOf(headers: readonly string[]): number | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    // Python apps' names come lower-cased already.
    if (name.length === 14 && (name === 'content-length' || name.toLowerCase() === 'content-length')) return Number(headers[i + 1]);
  }
  return undefined;
}

/**
 * The body length the app bound itself to, or undefined when it declared none or the response
 * carries no body anyway (HEAD, 204, 304: node drops body bytes for them).
 */
export function declaredLength(head: boolean, status: number, headers: readonly string[]): number | undefined {
  if (head || status === 204 || status === 304) return undefined;
  return contentLengthOf(headers);
}

/** The rule broken once `sent` body bytes (this event's included) have been sent, or undefined. */
export function lengthViolation(declared: number, sent: number, final: boolean): string | undefined {
  if (sent > declared) return `the body is longer than the ${String(declared)} bytes of its content-length`;
  if (final && sent < declared) return `the body ends at ${String(sent)} bytes, short of the ${String(declared)} of its content-length`;
  return undefined;
}

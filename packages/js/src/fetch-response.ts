// Writes a WHATWG Response to a node:http response: status, headers with every Set-Cookie kept,
// and the body streamed at the pace the client reads. Runs in the worker, per request.
import type { ServerResponse } from 'node:http';
import { applyWireRules, declaredLength, isByteCount, lengthViolation, waitForDrain, type GatewayLog } from '@bicorn/gateway';

export async function writeFetchResponse(response: Response, res: ServerResponse, head: boolean, log: GatewayLog): Promise<void> {
  // Headers takes any text, and joins repeated values ("3, 3"): a Content-Length that is not
  // one number of bytes frames nothing node can keep to, so it is refused as ASGI apps' is.
  const length = response.headers.get('content-length');
  if (length !== null && !isByteCount(length)) {
    await response.body?.cancel();
    throw new TypeError(`the Response's Content-Length must be one number of bytes, got "${length}"`);
  }
  const headers: string[] = [];
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers.push(name, value);
  }
  for (const cookie of response.headers.getSetCookie()) headers.push('set-cookie', cookie);
  // A fetch handler has no trailers to send.
  applyWireRules(res, headers, false, log);
  // A Content-Length binds the body: one that breaks it would corrupt the next response on the
  // connection, so it throws (a 500 while the head is unsent, else a cut connection).
  const declared = declaredLength(head, response.status, headers);
  const body = response.body;
  if (body === null || head) {
    const broken = lengthError(declared, 0, true);
    if (broken !== undefined) throw broken;
    writeHead(response, res, headers);
    res.end();
    await body?.cancel();
    return;
  }
  const reader = body.getReader();
  let sent = 0;
  for (;;) {
    const result = await reader.read();
    if (result.done) break;
    const chunk: unknown = result.value;
    if (!(chunk instanceof Uint8Array)) {
      await reader.cancel();
      throw new TypeError(`the response body stream yielded ${typeof chunk}, not a Uint8Array`);
    }
    sent += chunk.length;
    const broken = lengthError(declared, sent, false);
    if (broken !== undefined) {
      await reader.cancel();
      throw broken;
    }
    // The head waits for the first chunk (node would hold it until then anyway), so that a
    // first chunk that breaks the Content-Length is still a clean 500.
    if (!res.headersSent) writeHead(response, res, headers);
    if (!res.write(chunk)) await waitForDrain(res);
    if (res.destroyed) {
      // The client is gone: stop the handler's stream instead of reading it to the end.
      await reader.cancel();
      return;
    }
  }
  const broken = lengthError(declared, sent, true);
  if (broken !== undefined) throw broken;
  if (!res.headersSent) writeHead(response, res, headers);
  res.end();
}

function writeHead(response: Response, res: ServerResponse, headers: string[]): void {
  if (response.statusText === '') res.writeHead(response.status, headers);
  else res.writeHead(response.status, response.statusText, headers);
}

function lengthError(declared: number | undefined, sent: number, final: boolean): TypeError | undefined {
  const rule = declared === undefined ? undefined : lengthViolation(declared, sent, final);
  return rule === undefined ? undefined : new TypeError(`the Response breaks its Content-Length: ${rule}`);
}

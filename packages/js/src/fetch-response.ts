// Writes a WHATWG Response to a node:http response: status, headers with every Set-Cookie kept,
// and the body streamed at the pace the client reads. Runs in the worker, per request.
import type { ServerResponse } from 'node:http';
import { declaredLength, lengthViolation, waitForDrain } from '@bicorn/gateway';

export async function writeFetchResponse(response: Response, res: ServerResponse, head: boolean): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers.push(name, value);
  }
  for (const cookie of response.headers.getSetCookie()) headers.push('set-cookie', cookie);
  // A Content-Length binds the body: one that breaks it would corrupt the next response on the
  // connection, so it throws (a 500 while the head is unsent, else a cut connection).
  const declared = declaredLength(head, response.status, headers);
  const body = response.body;
  if (body === null || head) {
    checkLength(declared, 0, true);
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
    try {
      checkLength(declared, sent, false);
    } catch (error) {
      await reader.cancel();
      throw error;
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
  checkLength(declared, sent, true);
  if (!res.headersSent) writeHead(response, res, headers);
  res.end();
}

function writeHead(response: Response, res: ServerResponse, headers: string[]): void {
  if (response.statusText === '') res.writeHead(response.status, headers);
  else res.writeHead(response.status, response.statusText, headers);
}

function checkLength(declared: number | undefined, sent: number, final: boolean): void {
  const rule = declared === undefined ? undefined : lengthViolation(declared, sent, final);
  if (rule !== undefined) throw new TypeError(`the Response breaks its Content-Length: ${rule}`);
}

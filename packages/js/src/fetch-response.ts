// Writes a WHATWG Response to a node:http response: status, headers with every Set-Cookie kept,
// and the body streamed at the pace the client reads. Runs in the worker, per request.
import type { ServerResponse } from 'node:http';
import { waitForDrain } from '@bicorn/gateway';

export async function writeFetchResponse(response: Response, res: ServerResponse, head: boolean): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers.push(name, value);
  }
  for (const cookie of response.headers.getSetCookie()) headers.push('set-cookie', cookie);
  if (response.statusText === '') res.writeHead(response.status, headers);
  else res.writeHead(response.status, response.statusText, headers);

  const body = response.body;
  if (body === null) {
    res.end();
    return;
  }
  if (head) {
    res.end();
    await body.cancel();
    return;
  }
  const reader = body.getReader();
  for (;;) {
    const result = await reader.read();
    if (result.done) break;
    const chunk: unknown = result.value;
    if (!(chunk instanceof Uint8Array)) {
      await reader.cancel();
      throw new TypeError(`the response body stream yielded ${typeof chunk}, not a Uint8Array`);
    }
    if (!res.write(chunk)) await waitForDrain(res);
    if (res.destroyed) {
      // The client is gone: stop the handler's stream instead of reading it to the end.
      await reader.cancel();
      return;
    }
  }
  res.end();
}

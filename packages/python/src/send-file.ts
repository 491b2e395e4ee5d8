// ASGI `http.response.pathsend` for Python apps: the worker sends the file the app named with
// the gateway's sendFile, so the bytes never pass through the Python process. Runs in the
// worker, per response.
import { failResponse, sendFile } from '@bicorn/gateway';
import type { ServerResponse } from 'node:http';
import type { HostLog } from './log.js';
import type { ResponseHead } from './response-head.js';

/**
 * Never rejects: a file that cannot be sent is a 500 (or a cut connection) and a log line.
 * Resolves whether the file went out; with `head.trailers` the response is left open for them.
 */
export async function sendPythonFile(res: ServerResponse, head: ResponseHead, path: Buffer, log: HostLog): Promise<boolean> {
  const response = { status: head.status, headers: head.headers, keepOpen: head.trailers, head: res.req.method === 'HEAD' };
  try {
    // The bytes the app named: a file name need not be UTF-8.
    await sendFile(res, path, response);
    return true;
  } catch (error) {
    if (res.headersSent && res.destroyed) return false; // the client left while the file was on its way
    log.error({ err: error, method: res.req.method, path: res.req.url, file: path.toString() }, 'http.response.pathsend: cannot send the file');
    failResponse(res);
    return false;
  }
}

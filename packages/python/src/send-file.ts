// ASGI `http.response.pathsend`: the worker sends the file the app named as the response body,
// so the bytes never pass through the Python process. Runs in the worker, per response.
import { failResponse } from '@bicorn/gateway';
import type { FrameOf } from '@bicorn/protocol';
import { open, type FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { HostLog } from './log.js';
import { declaredLength, writeHead } from './response-head.js';

/** Never rejects: a file that cannot be sent is a 500 (or a cut connection) and a log line. */
export async function sendFile(
  res: ServerResponse,
  head: FrameOf<'http-response'> | undefined,
  path: Buffer,
  headOnly: boolean,
  log: HostLog,
): Promise<void> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'r');
    const info = await file.stat();
    if (!info.isFile()) throw new Error('not a regular file');
    const declared = head === undefined ? undefined : declaredLength(head);
    if (declared !== undefined && declared !== info.size) {
      throw new Error(`the file has ${String(info.size)} bytes, not the ${String(declared)} of the response's Content-Length`);
    }
    if (res.destroyed) return;
    writeHead(res, head, info.size);
    if (headOnly) {
      res.end();
      return;
    }
    const bytes = file.createReadStream();
    file = undefined; // the stream closes it
    await pipeline(bytes, res);
  } catch (error) {
    if (res.destroyed && res.headersSent) return; // the client left while the file was on its way
    log.error({ err: error, path: path.toString() }, 'http.response.pathsend: cannot send the file');
    failResponse(res);
  } finally {
    await file?.close();
  }
}

// The body of an `http.response.pathsend`: the worker streams the file itself, at the pace the
// client reads, with a Content-Length from the file when the app gave none. Runs in the worker.
import type { ServerResponse } from 'node:http';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

export interface FileResponse {
  readonly status: number;
  /** Flat names and values, as the start event gave them. */
  readonly headers: string[];
  /** Leave the response open for trailers (it is then chunked, without a Content-Length). */
  readonly keepOpen: boolean;
  readonly head: boolean;
}

/** Rejects before anything is written when the file cannot be opened, so the app gets the error and the client a 500. */
export async function sendFile(res: ServerResponse, path: string, response: FileResponse): Promise<void> {
  const file = await open(path, 'r');
  let streaming = false;
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new TypeError(`http.response.pathsend: path ${path} is not a regular file`);
    const framing = framingOf(response.headers);
    if (framing.contentLength !== undefined && framing.contentLength !== stats.size) {
      throw new TypeError(`http.response.pathsend: ${path} has ${String(stats.size)} bytes, not the ${String(framing.contentLength)} of the response's content-length`);
    }
    const headers = !response.keepOpen && !framing.present ? [...response.headers, 'content-length', String(stats.size)] : response.headers;
    res.writeHead(response.status, headers);
    if (response.head || stats.size === 0) {
      if (!response.keepOpen) res.end();
      return;
    }
    streaming = true;
    // The stream owns the handle from here and closes it when it ends or is destroyed.
    await pipeline(file.createReadStream(), res, { end: !response.keepOpen });
  } finally {
    if (!streaming) await file.close();
  }
}

/** Whether the app framed the body itself, and the length it declared. */
function framingOf(headers: readonly string[]): { present: boolean; contentLength: number | undefined } {
  let present = false;
  let contentLength: number | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] ?? '').toLowerCase();
    if (name === 'transfer-encoding') present = true;
    if (name === 'content-length') {
      present = true;
      contentLength = Number(headers[i + 1]);
    }
  }
  return { present, contentLength };
}

// The body of an `http.response.pathsend`: the worker streams the file itself, at the pace the
// client reads, with a Content-Length from the file when the app gave none. Runs in the worker.
import type { ServerResponse } from 'node:http';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { contentLengthOf } from './content-length.js';

export interface FileResponse {
  readonly status: number;
  /** Flat names and values, as the start event gave them. */
  readonly headers: string[];
  /** Leave the response open for trailers (it is then chunked, without a Content-Length). */
  readonly keepOpen: boolean;
  readonly head: boolean;
}

/**
 * Rejects before anything is written when the file cannot be opened, so the app gets the error
 * and the client a 500. A Buffer path is opened as its bytes, for a file name that is not UTF-8.
 */
export async function sendFile(res: ServerResponse, path: string | Buffer, response: FileResponse): Promise<void> {
  const file = await open(path, 'r');
  let streaming = false;
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new TypeError(`http.response.pathsend: path ${path.toString()} is not a regular file`);
    const declared = contentLengthOf(response.headers);
    if (declared !== undefined && declared !== stats.size) {
      throw new TypeError(`http.response.pathsend: ${path.toString()} has ${String(stats.size)} bytes, not the ${String(declared)} of the response's content-length`);
    }
    const headers = !response.keepOpen && declared === undefined ? [...response.headers, 'content-length', String(stats.size)] : response.headers;
    res.writeHead(response.status, headers);
    if (response.head || stats.size === 0) {
      if (!response.keepOpen) res.end();
      return;
    }
    streaming = true;
    // The stream owns the handle from here and closes it when it ends or is destroyed.
    const stream = file.createReadStream();
    try {
      await pipeline(stream, res, { end: !response.keepOpen });
    } catch (error) {
      // A client that read the whole file may leave before the pipeline ends (the last write's
      // callback, or the stream's end a tick after its last chunk): every byte handed to the
      // socket, nothing left in its queue, is a file sent.
      if (stream.bytesRead === stats.size && res.writableLength === 0) return;
      throw error;
    }
  } finally {
    if (!streaming) await file.close();
  }
}

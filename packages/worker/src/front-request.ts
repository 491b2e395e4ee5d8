// The worker's IncomingMessage (createServer's IncomingMessage option): node:http pushes a
// body into it chunk by chunk, and the front watches a chunked body there, so that one past
// limit_request_body, or one whose trailers carry a field RFC 9110 forbids there, is refused
// before the app reads its end. Runs in the worker, one per request.
import { IncomingMessage } from 'node:http';
import type { Refusal } from './request-rules.js';

export interface BodyWatch {
  /** A refusal for a body that has now received `bytes` more. */
  readonly body: (bytes: number) => Refusal | undefined;
  /** A refusal for the trailers that end the body. */
  readonly end: (rawTrailers: readonly string[]) => Refusal | undefined;
  /** Answers a refusal; the app sees no more of the body, and never its end. */
  readonly refuse: (refusal: Refusal) => void;
}

export class FrontRequest extends IncomingMessage {
  #watch: BodyWatch | undefined;
  #refused = false;

  watchBody(watch: BodyWatch): void {
    this.#watch = watch;
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    const watch = this.#watch;
    if (watch === undefined) return super.push(chunk, encoding);
    // Refused: what node still parses is dropped, and it goes on reading for the lingering
    // close (false would make it stop).
    if (this.#refused) return true;
    const refusal = chunk === null ? watch.end(this.rawTrailers) : watch.body(chunk instanceof Buffer ? chunk.length : 0);
    if (refusal === undefined) return super.push(chunk, encoding);
    this.#refused = true;
    // node set it before pushing the end; the message did not parse.
    this.complete = false;
    watch.refuse(refusal);
    return true;
  }
}

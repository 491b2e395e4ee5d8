// The send() side of one ASGI HTTP exchange and its ending: event-order rules, writes that
// wait for the socket to drain, the response extensions, and what the client gets when the
// app fails or returns early. Runs in the worker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsgiReceive } from './asgi-types.js';
import { ClientDisconnected } from './client-disconnected.js';
import { declaredLength, lengthViolation } from './content-length.js';
import { failResponse } from './fail-response.js';
import type { GatewayLog } from './log.js';
import { advance, AWAITING_START, FAILED, type ResponsePhase } from './response-order.js';
import { RequestReceiver } from './request-receiver.js';
import { parseSendEvent, type ResponseEvent } from './send-events.js';
import { sendFile } from './send-file.js';
import { waitForDrain } from './wait-for-drain.js';
import { applyWireRules, sendEarlyHints } from './wire-rules.js';

/** The extensions this exchange advertised in its scope. */
export interface ExchangeExtensions {
  readonly trailers: boolean;
  readonly earlyHints: boolean;
}

/** What send() returns for an event written at once. */
const SENT: Promise<void> = Promise.resolve();

export class HttpExchange {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #log: GatewayLog;
  // Made on the app's first receive(): many apps never call it for a request without a body.
  #receiver: RequestReceiver | undefined;
  #requestDone = false;
  readonly #method: string;
  readonly #path: string;
  readonly #extensions: ExchangeExtensions;
  #phase: ResponsePhase = AWAITING_START;
  #status = 200;
  #headers: string[] = [];
  #trailers: [string, string][] | undefined;
  /** The app's Content-Length when the body must keep it, and the body bytes sent so far. */
  #declared: number | undefined;
  #bodyBytes = 0;
  #disconnected = false;
  // The error send() threw for an order violation; the app usually rethrows it, and it has been logged.
  #violation: Error | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, log: GatewayLog, scope: { method: string; path: string }, extensions: ExchangeExtensions) {
    this.#res = res;
    this.#log = log;
    this.#method = scope.method;
    this.#path = scope.path;
    this.#extensions = extensions;
    this.#req = req;
    res.on('close', this.#onClose);
  }

  readonly receive: AsgiReceive = () => {
    if (this.#receiver === undefined) {
      this.#receiver = new RequestReceiver(this.#req);
      if (this.#requestDone) this.#receiver.close();
    }
    return this.#receiver.receive();
  };

  // Not an async function: most events are written at once, and the app's await of one shared
  // settled promise costs less than a promise made and resolved per event.
  readonly send = (event: unknown): Promise<void> => {
    try {
      return this.#send(event) ?? SENT;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  /** Checks and writes the event; a promise when it has to wait (a full socket, a file), else undefined. */
  #send(event: unknown): Promise<void> | undefined {
    const parsed = parseSendEvent(event);
    // The order first: an event after a complete response breaks it whether or not the client
    // has gone since (which a client that read the whole response may well have).
    const verdict = advance(this.#phase, parsed);
    if (!verdict.ok) throw this.#violate(verdict.rule, 'ASGI event order violated', 'ASGI app broke the HTTP event order');
    if (this.#disconnected) throw new ClientDisconnected();
    if (parsed.kind === 'start' && parsed.trailers) this.#checkTrailersStart(parsed.headers);
    if (parsed.kind === 'body' && this.#declared !== undefined) {
      this.#bodyBytes += parsed.body.length;
      const rule = lengthViolation(this.#declared, this.#bodyBytes, !parsed.more);
      if (rule !== undefined) throw this.#violate(`http.response.body: ${rule}`, 'Content-Length violated', 'ASGI app broke its Content-Length');
    }
    // A pathsend moves on only once the file is open, so that a missing file is still a clean 500.
    if (parsed.kind !== 'pathsend') this.#phase = verdict.phase;
    return this.#write(parsed, verdict.phase);
  }

  /** Writes the event; a promise when it has to wait (a full socket, a file), else undefined. */
  #write(event: ResponseEvent, next: ResponsePhase): Promise<void> | undefined {
    const res = this.#res;
    switch (event.kind) {
      case 'early_hint':
        this.#earlyHint(event.links);
        return undefined;
      case 'start':
        // Headers wait for the first body event, so a second start can still become a clean 500.
        applyWireRules(res, event.headers, event.trailers, this.#log);
        this.#status = event.status;
        this.#headers = event.headers;
        this.#declared = declaredLength(this.#method === 'HEAD', event.status, event.headers);
        return undefined;
      case 'body': {
        const first = !res.headersSent;
        if (first) res.writeHead(this.#status, this.#headers);
        // A first part that is all the Content-Length allows is the whole response, though the
        // app has its final event still to send (send/SPEC.md): it goes out ended at once.
        if (next.kind === 'complete' || (first && this.#bodyBytes === this.#declared)) {
          res.end(event.body);
          this.#closeRequest();
          return undefined;
        }
        if (event.body.length === 0) {
          if (first) res.flushHeaders();
          return undefined;
        }
        return res.write(event.body) ? undefined : this.#drained();
      }
      case 'trailers':
        for (let i = 0; i + 1 < event.headers.length; i += 2) (this.#trailers ??= []).push([event.headers[i] ?? '', event.headers[i + 1] ?? '']);
        if (event.more) return undefined;
        res.addTrailers(this.#trailers ?? []);
        res.end();
        this.#closeRequest();
        return undefined;
      case 'pathsend':
        return this.#pathsend(event.path, next);
    }
  }

  async #drained(): Promise<void> {
    await waitForDrain(this.#res);
    if (this.#clientGone()) throw new ClientDisconnected();
  }

  /** The response is done or failed, or the client gone: receive() yields http.disconnect from now on. */
  #closeRequest(): void {
    this.#requestDone = true;
    this.#receiver?.close();
  }

  async #pathsend(path: string, next: ResponsePhase): Promise<void> {
    const keepOpen = next.kind === 'awaiting-trailers';
    try {
      await sendFile(this.#res, path, { status: this.#status, headers: this.#headers, keepOpen, head: this.#method === 'HEAD' });
    } catch (error) {
      if (this.#res.headersSent) {
        if (this.#clientGone()) throw new ClientDisconnected();
        this.#fail();
      }
      throw error;
    }
    this.#phase = next;
    if (!keepOpen) this.#closeRequest();
  }

  #checkTrailersStart(headers: readonly string[]): void {
    if (!this.#extensions.trailers) {
      throw new TypeError('http.response.start: trailers is true, but http.response.trailers is not in scope.extensions (the request did not send TE: trailers)');
    }
    for (let i = 0; i < headers.length; i += 2) {
      if ((headers[i] ?? '').toLowerCase() === 'content-length') {
        throw new TypeError('http.response.start: trailers is true, so the body is chunked; drop the content-length header');
      }
    }
  }

  #earlyHint(links: string[]): void {
    try {
      sendEarlyHints(this.#res, links);
    } catch (error) {
      throw new TypeError(`http.response.early_hint: links: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  appReturned(): void {
    switch (this.#phase.kind) {
      case 'complete':
      case 'failed':
        return;
      case 'awaiting-start':
      case 'awaiting-body':
      case 'awaiting-trailers': {
        const due = this.#phase.kind === 'awaiting-trailers' ? 'http.response.trailers' : 'http.response.body';
        this.#phase = FAILED;
        if (this.#disconnected) {
          this.#log.debug({ method: this.#method, path: this.#path }, 'ASGI app returned after the client disconnected');
          return;
        }
        this.#log.error({ rule: `app returned before the final ${due}`, method: this.#method, path: this.#path }, 'ASGI app returned without completing the response');
        this.#fail();
      }
    }
  }

  appFailed(error: unknown): void {
    const phase = this.#phase;
    this.#phase = FAILED;
    if (error === this.#violation) return;
    const context = { err: error, method: this.#method, path: this.#path };
    if (error instanceof ClientDisconnected) {
      this.#log.debug(context, 'ASGI app stopped: the client disconnected');
      return;
    }
    this.#log.error(context, 'exception in ASGI app');
    if (phase.kind !== 'complete' && phase.kind !== 'failed' && !this.#disconnected) this.#fail();
  }

  /** Fails the response for a rule the app broke (logged here, once) and returns the error for send() to throw. */
  #violate(rule: string, what: string, msg: string): Error {
    const error = new Error(`${what}: ${rule}`);
    this.#violation = error;
    this.#log.error({ rule, method: this.#method, path: this.#path }, msg);
    this.#fail();
    return error;
  }

  #fail(): void {
    this.#phase = FAILED;
    this.#closeRequest();
    failResponse(this.#res);
  }

  // Read through a method: the flag changes while send() awaits.
  #clientGone(): boolean {
    return this.#disconnected || this.#res.destroyed;
  }

  readonly #onClose = (): void => {
    if (!this.#res.writableFinished) this.#disconnected = true;
    this.#closeRequest();
  };
}

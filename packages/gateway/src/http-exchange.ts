// The send() side of one ASGI HTTP exchange and its ending: event-order rules, writes that
// wait for the socket to drain, and what the client gets when the app fails or returns early.
// Runs in the worker.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsgiReceive } from './asgi-types.js';
import { ClientDisconnected } from './client-disconnected.js';
import { failResponse } from './fail-response.js';
import type { GatewayLog } from './log.js';
import { advance, type ResponsePhase } from './response-order.js';
import { RequestReceiver } from './request-receiver.js';
import { parseSendEvent } from './send-events.js';
import { waitForDrain } from './wait-for-drain.js';

export class HttpExchange {
  readonly receive: AsgiReceive;
  readonly #res: ServerResponse;
  readonly #log: GatewayLog;
  readonly #receiver: RequestReceiver;
  readonly #method: string;
  readonly #path: string;
  #phase: ResponsePhase = 'awaiting-start';
  #status = 200;
  #headers: string[] = [];
  #disconnected = false;
  // The error send() threw for an order violation; the app usually rethrows it, and it has been logged.
  #violation: Error | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, log: GatewayLog, method: string, path: string) {
    this.#res = res;
    this.#log = log;
    this.#method = method;
    this.#path = path;
    this.#receiver = new RequestReceiver(req);
    this.receive = this.#receiver.receive;
    res.on('close', this.#onClose);
  }

  readonly send = async (event: unknown): Promise<void> => {
    const parsed = parseSendEvent(event);
    if (this.#disconnected) throw new ClientDisconnected();
    const verdict = advance(this.#phase, parsed.kind, parsed.kind === 'body' && parsed.more);
    if (!verdict.ok) {
      const error = new Error(`ASGI event order violated: ${verdict.rule}`);
      this.#violation = error;
      this.#log.error({ rule: verdict.rule, method: this.#method, path: this.#path }, 'ASGI app broke the HTTP event order');
      this.#fail();
      throw error;
    }
    this.#phase = verdict.phase;
    if (parsed.kind === 'start') {
      // Headers wait for the first body event, so a second start can still become a clean 500.
      this.#status = parsed.status;
      this.#headers = parsed.headers;
      return;
    }
    const res = this.#res;
    const first = !res.headersSent;
    if (first) res.writeHead(this.#status, this.#headers);
    if (!parsed.more) {
      res.end(parsed.body);
      this.#receiver.close();
      return;
    }
    if (parsed.body.length === 0) {
      if (first) res.flushHeaders();
      return;
    }
    if (!res.write(parsed.body)) {
      await waitForDrain(res);
      if (this.#clientGone()) throw new ClientDisconnected();
    }
  };

  appReturned(): void {
    switch (this.#phase) {
      case 'complete':
      case 'failed':
        return;
      case 'awaiting-start':
      case 'awaiting-body':
        this.#phase = 'failed';
        if (this.#disconnected) {
          this.#log.debug({ method: this.#method, path: this.#path }, 'ASGI app returned after the client disconnected');
          return;
        }
        this.#log.error(
          { rule: 'app returned before the final http.response.body', method: this.#method, path: this.#path },
          'ASGI app returned without completing the response',
        );
        this.#fail();
    }
  }

  appFailed(error: unknown): void {
    const phase = this.#phase;
    this.#phase = 'failed';
    if (error === this.#violation) return;
    const context = { err: error, method: this.#method, path: this.#path };
    if (error instanceof ClientDisconnected) {
      this.#log.debug(context, 'ASGI app stopped: the client disconnected');
      return;
    }
    this.#log.error(context, 'exception in ASGI app');
    if (phase !== 'complete' && phase !== 'failed' && !this.#disconnected) this.#fail();
  }

  #fail(): void {
    this.#phase = 'failed';
    this.#receiver.close();
    failResponse(this.#res);
  }

  // Read through a method: the flag changes while send() awaits.
  #clientGone(): boolean {
    return this.#disconnected || this.#res.destroyed;
  }

  readonly #onClose = (): void => {
    if (!this.#res.writableFinished) this.#disconnected = true;
    this.#receiver.close();
  };
}

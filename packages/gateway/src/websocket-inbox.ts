// The receive() side of one WebSocket: websocket.connect first, then the client's messages in
// order, then websocket.disconnect for every call after. Messages the app has not taken yet
// wait here; past `window` bytes the socket is paused, so a slow app never makes the worker
// hold more than the window (plus one message). No I/O of its own; runs in the worker.
import type { WebSocketDisconnectEvent, WebSocketMessageEvent, WebSocketReceiveEvent } from './websocket-types.js';

export interface InboxFlow {
  pause(): void;
  resume(): void;
}

const CONNECT = Object.freeze({ type: 'websocket.connect' } as const);

export class WebSocketInbox {
  readonly #window: number;
  readonly #flow: InboxFlow;
  readonly #messages: { event: WebSocketMessageEvent; bytes: number }[] = [];
  readonly #waiters: ((event: WebSocketReceiveEvent) => void)[] = [];
  #connectTaken = false;
  #queued = 0;
  #paused = false;
  #disconnect: WebSocketDisconnectEvent | undefined;

  constructor(window: number, flow: InboxFlow) {
    this.#window = window;
    this.#flow = flow;
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  get ended(): boolean {
    return this.#disconnect !== undefined;
  }

  readonly receive = (): Promise<WebSocketReceiveEvent> => {
    if (this.#waiters.length === 0) {
      const event = this.#next();
      if (event !== undefined) return Promise.resolve(event);
    }
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  };

  push(event: WebSocketMessageEvent, bytes: number): void {
    if (this.#disconnect !== undefined) return;
    this.#messages.push({ event, bytes });
    this.#queued += bytes;
    if (!this.#paused && this.#queued > this.#window) {
      this.#paused = true;
      this.#flow.pause();
    }
    this.#wake();
  }

  /** The connection is over; queued messages are still delivered first. */
  end(code: number, reason: string): void {
    if (this.#disconnect !== undefined) return;
    this.#disconnect = { type: 'websocket.disconnect', code, reason };
    this.#wake();
  }

  #wake(): void {
    while (this.#waiters.length > 0) {
      const event = this.#next();
      if (event === undefined) return;
      this.#waiters.shift()?.(event);
    }
  }

  #next(): WebSocketReceiveEvent | undefined {
    if (!this.#connectTaken) {
      this.#connectTaken = true;
      return CONNECT;
    }
    const message = this.#messages.shift();
    if (message !== undefined) {
      this.#queued -= message.bytes;
      if (this.#paused && this.#queued <= this.#window) {
        this.#paused = false;
        this.#flow.resume();
      }
      return message.event;
    }
    return this.#disconnect;
  }
}

// A WebSocket client for end-to-end tests, on the `ws` package: messages and the close can be
// awaited in order, and a refused handshake gives its HTTP answer.
import WebSocket from 'ws';

export interface Message {
  readonly data: string;
  readonly binary: boolean;
}

/** A ws client whose messages and close can be awaited in order. */
export class Client {
  readonly #queue: Message[] = [];
  readonly #waiters: ((m: Message) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket, readonly upgradeHeaders: Record<string, string | string[] | undefined>) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const message = { data: binary ? data.toString('latin1') : data.toString('utf8'), binary };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
  }

  next(): Promise<Message> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.#waiters.push(resolve);
      void this.closed.then(({ code }) => reject(new Error(`the connection closed (${String(code)}) before a message came`)));
    });
  }
}

export function wsUrl(url: string, path: string): string {
  return url.replace(/^http/, 'ws') + path;
}

/** Opens a WebSocket, or fails with the HTTP answer that refused it. */
export function openWs(url: string, protocols: string[] = [], options: WebSocket.ClientOptions = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    let headers: Record<string, string | string[] | undefined> = {};
    ws.once('upgrade', (res) => (headers = res.headers));
    ws.once('open', () => {
      resolve(new Client(ws, headers));
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`refused with HTTP ${String(res.statusCode)}`));
    });
  });
}

/** Connects expecting a refusal, and returns the HTTP answer. */
export function refusal(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the WebSocket was accepted'));
    });
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
  });
}


import { ClientDisconnected, type HandOverTaker, type WebSocketMessagePort, type WebSocketReceiveEvent, type WebSocketScope } from '@bicorn/gateway';
import type { Socket } from 'node:net';
import { MAX_PAYLOAD, type Frame } from '@bicorn/protocol';
import { describe, expect, it } from 'vitest';
import type { FrameSink } from './runner-process.js';
import { WebSocketRelay } from './websocket-relay.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const scope = {
  type: 'websocket',
  asgi: { version: '3.0', spec_version: '2.4' },
  http_version: '1.1',
  scheme: 'ws',
  path: '/app/chat',
  raw_path: Buffer.from('/app/chat'),
  query_string: Buffer.from('room=1'),
  root_path: '/app',
  headers: [[Buffer.from('host'), Buffer.from('localhost')]],
  client: ['127.0.0.1', 5000],
  server: ['127.0.0.1', 8000],
  subprotocols: [],
  extensions: {},
} as unknown as WebSocketScope;

/**
 * The client's side as the gateway would give it: events the test pushes, one per receive(),
 * each message offered first to the relay's take, as bytes.
 */
class Client {
  readonly #queue: WebSocketReceiveEvent[] = [];
  #waiting: ((event: WebSocketReceiveEvent) => void) | undefined;
  #take: ((data: Buffer, text: boolean) => boolean) | undefined;
  /** Messages the relay took as they came. */
  taken = 0;
  readonly takeMessages = (take: (data: Buffer, text: boolean) => boolean): void => {
    this.#take = take;
  };
  push(event: WebSocketReceiveEvent): void {
    if (event.type === 'websocket.receive' && this.#take !== undefined) {
      const text = typeof event.text === 'string';
      if (this.#take(text ? Buffer.from(event.text ?? '') : Buffer.from(event.bytes ?? []), text)) {
        this.taken += 1;
        return;
      }
    }
    if (this.#waiting === undefined) this.#queue.push(event);
    else {
      this.#waiting(event);
      this.#waiting = undefined;
    }
  }
  readonly receive = (): Promise<WebSocketReceiveEvent> => {
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  };
}

/** A port's hand-over for a connection that cannot be handed over (these relays are never offered the socket). */
const NO_HAND_OVER: Pick<WebSocketMessagePort, 'socketToHandOver' | 'handOver'> = {
  socketToHandOver: () => undefined,
  handOver: () => {
    throw new Error('a connection without a socket to hand over was handed over');
  },
};

/** The gateway's message port over a stand-in send(): each message as the event send() would take, waiting as send() does. */
function portOver(send: (event: unknown) => Promise<void>, client: Client): WebSocketMessagePort {
  return {
    sendMessage: (data, text) => send(text ? { type: 'websocket.send', text: data.toString('utf8') } : { type: 'websocket.send', bytes: data }),
    takeMessages: client.takeMessages,
    ...NO_HAND_OVER,
  };
}

function setup(window = 1024) {
  const frames: Frame[] = [];
  const runner: FrameSink = { send: (frame) => frames.push(frame as Frame) };
  const sent: Record<string, unknown>[] = [];
  const send = (event: unknown): Promise<void> => {
    sent.push(event as Record<string, unknown>);
    return Promise.resolve();
  };
  // Messages written at once, as the gateway's port writes those within the send window.
  const messages: [Buffer, boolean][] = [];
  const client = new Client();
  const port: WebSocketMessagePort = {
    ...NO_HAND_OVER,
    takeMessages: client.takeMessages,
    sendMessage: (data, text) => {
      messages.push([data, text]);
      void send(text ? { type: 'websocket.send', text: data.toString('utf8') } : { type: 'websocket.send', bytes: data });
      return undefined;
    },
  };
  const relay = new WebSocketRelay(7, runner, { window, log: silent, send, port, path: '/app/chat', lender: () => undefined });
  client.push({ type: 'websocket.connect' });
  const done = relay.run(scope, client.receive);
  return { frames, sent, messages, relay, client, done };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A relay whose runner asks for the socket, over a port that hands the connection over at the
 * accept (`takes`: whether it does, or opens it in the gateway after all), and a lender that
 * lends it; what the port and the lender were told goes to `calls`.
 */
function lendingSetup(takes: boolean) {
  const frames: Frame[] = [];
  const calls: string[] = [];
  const client = new Client();
  const socket = { _handle: { fd: 42 } } as unknown as Socket;
  let taker: HandOverTaker | undefined;
  const port: WebSocketMessagePort = {
    takeMessages: client.takeMessages,
    sendMessage: () => undefined,
    socketToHandOver: () => socket,
    handOver: (given) => {
      taker = given;
      return {
        over: (code) => {
          calls.push(`over ${String(code)}`);
          client.push({ type: 'websocket.disconnect', code });
        },
        fail: () => {
          calls.push('fail');
          client.push({ type: 'websocket.disconnect', code: 1006 });
        },
      };
    },
  };
  const send = (event: unknown): Promise<void> => {
    if ((event as { type: string }).type === 'websocket.accept') taker?.taken(takes ? socket : undefined);
    return Promise.resolve();
  };
  const lender = {
    lend: (_socket: Socket, stream: number) => {
      calls.push(`lend ${String(stream)}`);
      return true;
    },
  };
  const relay = new WebSocketRelay(7, { send: (frame) => frames.push(frame as Frame) }, { window: 100, log: silent, send, port, path: '/', lender: () => lender });
  client.push({ type: 'websocket.connect' });
  const done = relay.run(scope, client.receive);
  return { frames, calls, relay, client, done };
}

describe('WebSocketRelay', () => {
  it('hands the connection over when the runner asks with its accept, lends the socket, and is over when the runner says so', async () => {
    const { frames, calls, relay, done } = lendingSetup(true);
    await settle();
    expect(frames[0]).toMatchObject({ type: 'ws-connect', lendable: true });
    relay.onFrame({ type: 'http-borrow', stream: 7 });
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    await settle();
    expect(calls).toEqual(['lend 7']);
    relay.onFrame({ type: 'ws-close', stream: 7, code: 4000, reason: 'bye' });
    await done;
    expect(calls).toEqual(['lend 7', 'over 4000']);
    // Nothing went to the runner after the connect: the connection was the runner's.
    expect(frames.slice(1)).toEqual([]);
  });

  it('answers HTTP_NOT_LENT when the accept opened the connection in the gateway, and relays it', async () => {
    const { frames, calls, relay, client, done } = lendingSetup(false);
    await settle();
    relay.onFrame({ type: 'http-borrow', stream: 7 });
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    await settle();
    expect(frames.slice(1)).toEqual([{ type: 'http-not-lent', stream: 7 }]);
    client.push({ type: 'websocket.disconnect', code: 1000 });
    await done;
    expect(calls).toEqual([]);
    expect(frames.at(-1)).toEqual({ type: 'ws-close', stream: 7, code: 1000, reason: '' });
  });

  it('closes a lent connection with 1011 through the gateway when the runner dies', async () => {
    const { calls, relay, done } = lendingSetup(true);
    await settle();
    relay.onFrame({ type: 'http-borrow', stream: 7 });
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    await settle();
    relay.destroy(new Error('the Python process died'));
    await done;
    expect(calls).toEqual(['lend 7', 'fail']);
  });

  it('opens the stream with the request head, the root path apart from the path', async () => {
    const { frames, client, done } = setup();
    await settle();
    expect(frames[0]).toMatchObject({ type: 'ws-connect', stream: 7, scheme: 'ws', path: Buffer.from('/chat'), rootPath: Buffer.from('/app'), queryString: Buffer.from('room=1') });
    client.push({ type: 'websocket.disconnect', code: 1000 });
    await done;
  });

  it('relays the app accepting, a fragmented text message (credited as it comes), and a close', async () => {
    const { frames, sent, relay, client, done } = setup();
    await settle();
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: 'chat', headers: [] });
    relay.onFrame({ type: 'ws-message', stream: 7, more: true, text: true, body: Buffer.from('hé') });
    relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: true, body: Buffer.from('llo') });
    relay.onFrame({ type: 'ws-close', stream: 7, code: 4000, reason: 'bye' });
    await settle();
    expect(sent).toEqual([
      { type: 'websocket.accept', subprotocol: 'chat', headers: [] },
      { type: 'websocket.send', text: 'héllo' },
      { type: 'websocket.close', code: 4000, reason: 'bye' },
    ]);
    // The first piece is credited as it comes; the rest of the message, whole, is held back
    // until a quarter of the window is owed.
    const credits = frames.flatMap((f) => (f.type === 'credit' ? [f.bytes] : []));
    expect(credits).toEqual([3]);
    client.push({ type: 'websocket.disconnect', code: 4000, reason: 'bye' });
    await done;
    expect(frames.at(-1)).toEqual({ type: 'ws-close', stream: 7, code: 4000, reason: 'bye' });
  });

  it('sends text from the runner that is not UTF-8 with U+FFFD in its place, and bytes as they are', async () => {
    const { messages, relay, client, done } = setup();
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: true, body: Buffer.from([0x61, 0xff, 0x62]) });
    relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: true, body: Buffer.from('é') });
    relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: false, body: Buffer.from([0xff]) });
    await settle();
    expect(messages).toEqual([
      [Buffer.from('a\ufffdb'), true],
      [Buffer.from('é'), true],
      [Buffer.from([0xff]), false],
    ]);
    client.push({ type: 'websocket.disconnect', code: 1000 });
    await done;
  });

  it('forwards client messages in fragments of at most a frame', async () => {
    const { frames, relay, client, done } = setup(4 * MAX_PAYLOAD);
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    client.push({ type: 'websocket.receive', bytes: Buffer.alloc(MAX_PAYLOAD + 5, 1) });
    await settle();
    expect(frames.filter((f) => f.type === 'ws-message').map((f) => [f.more, f.body.length])).toEqual([
      [true, MAX_PAYLOAD - 1],
      [false, 6],
    ]);
    client.push({ type: 'websocket.disconnect', code: 1006 });
    await done;
  });

  it('sends a client message larger than what is left of the window in pieces within it, waiting for credit', async () => {
    const { frames, relay, client, done } = setup(10);
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    client.push({ type: 'websocket.receive', bytes: Buffer.alloc(25, 1) });
    client.push({ type: 'websocket.receive', text: 'next' });
    const messages = () => frames.flatMap((f) => (f.type === 'ws-message' ? [[f.more, f.body.length]] : []));
    await settle();
    expect(messages()).toEqual([[true, 10]]);
    // The runner credits a message's first pieces as they come.
    relay.onFrame({ type: 'credit', stream: 7, bytes: 10 });
    await settle();
    relay.onFrame({ type: 'credit', stream: 7, bytes: 10 });
    await settle();
    expect(messages()).toEqual([[true, 10], [true, 10], [false, 5], [false, 4]]);
    client.push({ type: 'websocket.disconnect', code: 1006 });
    await done;
  });

  it('takes client messages to the runner as they come while they fit the window, and keeps their order behind one that waits for credit', async () => {
    const { frames, relay, client, done } = setup(10);
    await settle();
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    const messages = () => frames.flatMap((f) => (f.type === 'ws-message' ? [[f.more, f.text, f.body.toString()]] : []));
    client.push({ type: 'websocket.receive', text: 'hé' });
    expect(messages()).toEqual([[false, true, 'hé']]);
    expect(client.taken).toBe(1);
    // 7 bytes of window left: the next message waits for credit, and the small one after it too.
    client.push({ type: 'websocket.receive', bytes: Buffer.from('abcdefghij') });
    client.push({ type: 'websocket.receive', bytes: Buffer.from('k') });
    await settle();
    expect(client.taken).toBe(1);
    expect(messages()).toEqual([
      [false, true, 'hé'],
      [true, false, 'abcdefg'],
    ]);
    relay.onFrame({ type: 'credit', stream: 7, bytes: 10 });
    await settle();
    expect(messages().slice(2)).toEqual([
      [false, false, 'hij'],
      [false, false, 'k'],
    ]);
    // Nothing waits any more: the next message is taken as it comes.
    client.push({ type: 'websocket.receive', text: 'l' });
    expect(client.taken).toBe(2);
    expect(messages().at(-1)).toEqual([false, true, 'l']);
    client.push({ type: 'websocket.disconnect', code: 1000 });
    await done;
  });

  it("credits an app message's first pieces only once the messages before it have gone to the client, and whole messages a quarter of the window at a time", async () => {
    const frames: Frame[] = [];
    const client = new Client();
    const releases: (() => void)[] = [];
    const send = (event: unknown): Promise<void> =>
      (event as { type: string }).type === 'websocket.send' ? new Promise((resolve) => releases.push(resolve)) : Promise.resolve();
    const relay = new WebSocketRelay(7, { send: (frame) => frames.push(frame as Frame) }, { window: 100, log: silent, send, port: portOver(send, client), path: '/', lender: () => undefined });
    client.push({ type: 'websocket.connect' });
    const done = relay.run(scope, client.receive);
    const credits = () => frames.flatMap((f) => (f.type === 'credit' ? [f.bytes] : []));
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: false, body: Buffer.from('first') });
    relay.onFrame({ type: 'ws-message', stream: 7, more: true, text: false, body: Buffer.from('sec') });
    await settle();
    // The client has not taken the first message: nothing is credited, not even the pieces.
    expect(credits()).toEqual([]);
    releases.shift()?.();
    await settle();
    // The pieces go with the first message's credit, which was held back.
    expect(credits()).toEqual([8]);
    relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: false, body: Buffer.from('ond') });
    await settle();
    releases.shift()?.();
    await settle();
    expect(credits()).toEqual([8]);
    // Whole messages are credited once a quarter of the window (25 bytes) is owed.
    for (const body of ['x'.repeat(10), 'y'.repeat(12)]) relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: false, body: Buffer.from(body) });
    await settle();
    releases.shift()?.();
    await settle();
    expect(credits()).toEqual([8]);
    releases.shift()?.();
    await settle();
    expect(credits()).toEqual([8, 25]);
    client.push({ type: 'websocket.disconnect', code: 1000 });
    await done;
  });

  it('tells an app out of credit that the client left, once a send finds it gone', async () => {
    const frames: Frame[] = [];
    const client = new Client();
    const relay = new WebSocketRelay(7, { send: (frame) => frames.push(frame as Frame) }, {
      window: 1,
      log: silent,
      path: '/',
      send: () => Promise.resolve(),
      // As the gateway's port throws for a client that has left.
      port: {
        sendMessage: () => {
          throw new ClientDisconnected();
        },
        takeMessages: client.takeMessages,
        ...NO_HAND_OVER,
      },
      lender: () => undefined,
    });
    client.push({ type: 'websocket.connect' });
    client.push({ type: 'websocket.receive', text: 'uses up the window' });
    client.push({ type: 'websocket.receive', text: 'never read' });
    client.push({ type: 'websocket.disconnect', code: 4001, reason: 'gone' });
    const done = relay.run(scope, client.receive);
    relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    await settle();
    expect(frames.filter((f) => f.type === 'ws-message')).toHaveLength(1);
    relay.onFrame({ type: 'ws-message', stream: 7, more: false, text: true, body: Buffer.from('hello?') });
    await done;
    expect(frames.filter((f) => f.type === 'ws-message')).toHaveLength(1);
    expect(frames.at(-1)).toEqual({ type: 'ws-close', stream: 7, code: 4001, reason: 'gone' });
  });

  it('answers 500 for an app that fails before accepting, and closes with 1011 after', async () => {
    const before = setup();
    await settle();
    before.relay.onFrame({ type: 'http-error', stream: 7, message: 'Traceback…' });
    await before.done; // the relay is over without waiting for the client
    expect(before.sent.map((e) => [e.type, e.status])).toEqual([
      ['websocket.http.response.start', 500],
      ['websocket.http.response.body', undefined],
    ]);

    const after = setup();
    after.relay.onFrame({ type: 'ws-accept', stream: 7, subprotocol: '', headers: [] });
    after.relay.onFrame({ type: 'http-error', stream: 7, message: 'Traceback…' });
    await settle();
    expect(after.sent.at(-1)).toEqual({ type: 'websocket.close', code: 1011, reason: '' });
    after.client.push({ type: 'websocket.disconnect', code: 1011 });
    await after.done;
  });

  it('relays a denial response and is over when its body is', async () => {
    const { sent, relay, done } = setup();
    await settle();
    relay.onFrame({ type: 'http-response', stream: 7, trailers: false, status: 401, headers: [] });
    relay.onFrame({ type: 'http-response-body', stream: 7, more: false, body: Buffer.from('no') });
    await done;
    expect(sent).toEqual([
      { type: 'websocket.http.response.start', status: 401, headers: [] },
      { type: 'websocket.http.response.body', body: Buffer.from('no'), more_body: false },
    ]);
  });
});

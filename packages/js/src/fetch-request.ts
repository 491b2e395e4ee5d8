// The Request a fetch handler gets for a node:http request. undici's Request costs 8 µs to
// make and 26 µs with a signal to follow, so the handler gets an IncomingRequest: a Request
// (its prototype is Request.prototype) whose method, url, headers and signal come from the
// node:http request directly (the URL and headers with the scheme and Host a trusted proxy
// forwarded, as the worker's front found them), and whose undici Request, body stream
// included, is made only when something needs it. Runs in the worker, per request.
//
// undici's own code reads a Request through internal symbol-keyed fields (its state, signal,
// headers); an IncomingRequest answers those with its undici Request's, so that
// `new Request(request)`, `fetch(request)`, `request.clone()` and every member not defined
// here behave as the platform's. Where that does not hold (a Node whose undici keeps them
// elsewhere: checked once at load), every request is an undici Request made at once.
import { bodyFollows, requestOrigin, splitTarget, type RequestOrigin } from '@bicorn/gateway';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { requestHref } from './request-url.js';

const NativeRequest = globalThis.Request;
type RequestSignal = AbortSignal;

/** undici's symbol-keyed fields of a Request, by description: `signal` is answered with ours. */
const INTERNAL_FIELDS = Object.getOwnPropertySymbols(new NativeRequest('http://localhost/'));

let linkHeaders: (headers: RequestHeaders, mirror: Headers) => void;
let bodyStreamOf: (request: IncomingRequest) => boolean;
let initOf: (request: IncomingRequest) => RequestInit;

/**
 * The request's headers, which stay the ones the handler sees once its undici Request exists:
 * a change made to them after that is made to the undici Request's headers too.
 */
class RequestHeaders extends Headers {
  #mirror: Headers | undefined;

  static {
    // The class is `this` here: its name is not bound yet while it is being defined.
    const proto: object = this.prototype;
    linkHeaders = (headers, mirror) => {
      headers.#mirror = mirror;
    };
    // undici's types declare Headers' methods as properties, so the changing ones are redefined
    // here rather than overridden in the class body.
    for (const name of ['append', 'set', 'delete']) {
      const change: unknown = Object.getOwnPropertyDescriptor(Headers.prototype, name)?.value;
      if (typeof change !== 'function') continue;
      Object.defineProperty(proto, name, {
        configurable: true,
        writable: true,
        value(this: RequestHeaders, ...args: unknown[]): unknown {
          Reflect.apply(change, this, args);
          if (#mirror in this && this.#mirror !== undefined) Reflect.apply(change, this.#mirror, args);
          return undefined;
        },
      });
    }
  }
}

class IncomingRequest {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #url: string;
  readonly #rawHeaders: readonly string[];
  #headers: RequestHeaders | undefined;
  #controller: AbortController | undefined;
  #native: Request | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, url: string, rawHeaders: readonly string[]) {
    this.#req = req;
    this.#res = res;
    this.#url = url;
    this.#rawHeaders = rawHeaders;
  }

  get method(): string {
    return this.#req.method ?? 'GET';
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return this.#requestHeaders();
  }

  #requestHeaders(): RequestHeaders {
    if (this.#headers === undefined) {
      const headers = new RequestHeaders();
      const raw = this.#rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] ?? '', raw[i + 1] ?? '');
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** Aborts when the client goes away before the response is complete. */
  get signal(): RequestSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      const res = this.#res;
      if (res.destroyed) {
        if (!res.writableFinished) controller.abort();
      } else {
        res.once('close', () => {
          if (!res.writableFinished) controller.abort();
        });
      }
    }
    return this.#controller.signal;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#native === undefined && !hasBody(this.#req)) return null;
    return this.#platform().body;
  }

  get bodyUsed(): boolean {
    return this.#native?.bodyUsed ?? false;
  }

  /** The undici Request behind this one, made on first need. */
  #platform(): Request {
    if (this.#native !== undefined) return this.#native;
    const headers = this.#requestHeaders();
    const native = new NativeRequest(this.#url, this.#init());
    linkHeaders(headers, native.headers);
    this.#native = native;
    return native;
  }

  /** What an undici Request for this one is made with: method, headers and the body stream. */
  #init(): RequestInit {
    const method = this.method;
    const headers = this.#requestHeaders();
    if (!hasBody(this.#req)) return { method, headers };
    return { method, headers, body: Readable.toWeb(this.#req), duplex: 'half' };
  }

  static {
    // The class is `this` here: its name is not bound yet while it is being defined.
    const proto: object = this.prototype;
    bodyStreamOf = (request) => request.#native?.body != null;
    initOf = (request) => request.#init();
    Object.setPrototypeOf(proto, NativeRequest.prototype);
    Object.defineProperty(proto, 'constructor', { configurable: true, writable: true, value: NativeRequest });
    for (const field of INTERNAL_FIELDS) {
      Object.defineProperty(proto, field, {
        configurable: true,
        get(this: IncomingRequest): unknown {
          if (field.description === 'signal') return this.signal;
          return Reflect.get(this.#platform(), field);
        },
      });
    }
    // What reads the body is undici's, on the undici Request: the stream and its state live there.
    for (const name of ['arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text']) {
      const read: unknown = Object.getOwnPropertyDescriptor(NativeRequest.prototype, name)?.value;
      if (typeof read !== 'function') continue;
      Object.defineProperty(proto, name, {
        configurable: true,
        writable: true,
        value(this: IncomingRequest): unknown {
          return Reflect.apply(read, this.#platform(), []);
        },
      });
    }
  }
}

/** Whether the Request gets a body: fetch allows none for GET and HEAD. */
function hasBody(req: IncomingMessage): boolean {
  return req.method !== 'GET' && req.method !== 'HEAD' && bodyFollows(req);
}

/**
 * The origin's scheme and Host with the target's path and query (the absolute form's
 * authority is the request's Host, RFC 9112 3.2.2). Throws a TypeError when they make no URL.
 */
function requestUrl(req: IncomingMessage, origin: RequestOrigin): string {
  let target = req.url ?? '/';
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    const { path, query } = splitTarget(target);
    target = query === '' ? path : `${path}?${query}`;
  }
  return requestHref(origin.scheme, origin.host ?? serverAuthority(origin), target);
}

function serverAuthority(origin: RequestOrigin): string {
  if (origin.server === null) return 'localhost';
  const [address, port] = origin.server;
  const host = address.includes(':') ? `[${address}]` : address;
  return port === null ? host : `${host}:${String(port)}`;
}

/** Checks once that undici reads a Request through the fields an IncomingRequest forwards. */
function forwardingWorks(): boolean {
  try {
    const probe = new NativeRequest('http://probe.test/p', { method: 'POST', headers: { 'x-probe': '1' }, body: 'b' });
    const stand = Object.create(NativeRequest.prototype) as object;
    for (const field of INTERNAL_FIELDS) Object.defineProperty(stand, field, { get: (): unknown => Reflect.get(probe, field) });
    const copy = new NativeRequest(stand as Request);
    return copy.url === probe.url && copy.method === 'POST' && copy.headers.get('x-probe') === '1';
  } catch {
    return false;
  }
}

const LIGHT = forwardingWorks();

/**
 * The Request for a node:http request: an IncomingRequest, or an undici Request where one is
 * needed (TRACE, which undici refuses, and a Node where forwarding does not work). Throws a
 * TypeError when the scheme and Host make no valid URL.
 */
export function toFetchRequest(req: IncomingMessage, res: ServerResponse): Request {
  const origin = requestOrigin(req, '');
  const url = requestUrl(req, origin);
  const request = new IncomingRequest(req, res, url, origin.rawHeaders);
  if (LIGHT && req.method !== 'TRACE') return request as unknown as Request;
  // Made now, so that what undici refuses is refused before the handler runs.
  return new NativeRequest(url, { ...initOf(request), signal: request.signal });
}

/** Whether a Request from toFetchRequest has a body stream, which holds the request paused. */
export function bodyStarted(request: Request): boolean {
  return request instanceof IncomingRequest ? bodyStreamOf(request) : request.body !== null;
}

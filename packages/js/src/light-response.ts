// The Response a fetch app makes, made cheap: on Node 20 every body stream costs a transferable
// object and its garbage (about 15 µs, most of a hello-world request), so a Response given a
// string or bytes keeps them as they are and builds its stream only when something reads its
// body; the fetch host writes the bytes whole. Everything else about it is undici's own
// Response: it is one, made with a null body and the same init, so status, headers and their
// checks are the platform's. Runs in a worker that hosts a fetch app, installed as
// globalThis.Response.

export const NativeResponse: typeof Response = globalThis.Response;
type BodyInit = ConstructorParameters<typeof Response>[0];
type BodySource = string | Buffer;

// The statuses that must have a null body (fetch's "null body status").
function nullBodyStatus(init: ResponseInit | undefined): boolean {
  const status = init?.status;
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

/** What reads a body, on undici's Response.prototype: each is redefined to read the kept bytes. */
const BODY_READERS = ['arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text'];

let sourceOf: (response: Response) => BodySource | undefined;

export class LightResponse extends NativeResponse {
  // Set when the body was given as a string or bytes; `#native` carries it as a stream once used.
  #source: BodySource | undefined;
  #native: Response | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    const plain = (typeof body === 'string' || body instanceof Uint8Array) && !nullBodyStatus(init);
    super(plain ? null : body, init);
    if (typeof body === 'string' && plain) {
      this.#keep(body, 'text/plain;charset=UTF-8');
    } else if (body instanceof Uint8Array && plain) {
      // A copy of the bytes, as the platform takes one: the app may reuse its buffer.
      this.#keep(Buffer.from(body), undefined);
    }
  }

  static override json(data: unknown, init?: ResponseInit): Response {
    if (nullBodyStatus(init)) return NativeResponse.json(data, init);
    // undefined for undefined, a function or a symbol, whatever its declared type says.
    const text = JSON.stringify(data) as string | undefined;
    if (text === undefined) throw new TypeError('Value is not JSON serializable');
    const response = new LightResponse(null, init);
    response.#keep(text, 'application/json');
    return response;
  }

  // `Response` is this class once installed, and a Response from fetch(), or one made before,
  // is undici's: both are Responses. A subclass of this one keeps the usual test.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === LightResponse ? value instanceof NativeResponse : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  #keep(source: BodySource, type: string | undefined): void {
    this.#source = source;
    // As the platform does for a body that has a type: after the init's headers, if none is there.
    if (type !== undefined && !this.headers.has('content-type')) this.headers.append('content-type', type);
  }

  /** The platform's Response for the kept body, made the first time anything uses the body. */
  #holder(source: BodySource): Response {
    this.#native ??= new NativeResponse(source, { status: this.status, statusText: this.statusText, headers: this.headers });
    return this.#native;
  }

  /** A copy: of the kept bytes, or of one branch of the body, with this response's headers as they are now. */
  #clone(source: BodySource): Response {
    const init = { status: this.status, statusText: this.statusText, headers: this.headers };
    if (this.#native === undefined) return new LightResponse(source, init);
    return new NativeResponse(this.#native.clone().body, init);
  }

  static {
    // The class is `this` here: its name is not bound yet while it is being defined.
    const proto: object = this.prototype;
    sourceOf = (response) => (#source in response && response.#native === undefined ? response.#source : undefined);
    // undici's types declare the body members as properties, so they are redefined here rather
    // than overridden in the class body: each reads the kept bytes, or is undici's own.
    const holder = (response: object): Response | undefined =>
      #source in response && response.#source !== undefined ? response.#holder(response.#source) : undefined;
    const native = (name: string): PropertyDescriptor | undefined => Object.getOwnPropertyDescriptor(NativeResponse.prototype, name);
    const nativeGetter = (name: string): ((target: object) => unknown) => {
      const descriptor = native(name);
      const get: unknown = descriptor === undefined ? undefined : Reflect.get(descriptor, 'get');
      return (target): unknown => (typeof get === 'function' ? Reflect.apply(get, target, []) : undefined);
    };
    const bodyGetter = nativeGetter('body');
    const bodyUsedGetter = nativeGetter('bodyUsed');
    Object.defineProperty(proto, 'body', {
      configurable: true,
      get(this: object): unknown {
        return holder(this)?.body ?? bodyGetter(this);
      },
    });
    Object.defineProperty(proto, 'bodyUsed', {
      configurable: true,
      get(this: object): unknown {
        if (#source in this && this.#source !== undefined) return this.#native?.bodyUsed ?? false;
        return bodyUsedGetter(this);
      },
    });
    const clone: unknown = native('clone')?.value;
    Object.defineProperty(proto, 'clone', {
      configurable: true,
      writable: true,
      value(this: object): unknown {
        if (#source in this && this.#source !== undefined) return this.#clone(this.#source);
        return typeof clone === 'function' ? Reflect.apply(clone, this, []) : undefined;
      },
    });
    for (const name of BODY_READERS) {
      const read: unknown = native(name)?.value;
      if (typeof read !== 'function') continue;
      Object.defineProperty(proto, name, {
        configurable: true,
        writable: true,
        value(this: object): unknown {
          const kept = holder(this);
          return Reflect.apply(read, kept ?? this, []);
        },
      });
    }
  }
}

/**
 * The body of a Response as the string or bytes it was made with, when it was made so and
 * nothing has used it: the host can write it whole. Undefined for every other Response.
 */
export function wholeBody(response: Response): BodySource | undefined {
  return sourceOf(response);
}

/** Makes LightResponse the global Response, once. */
export function installLightResponse(): void {
  if (globalThis.Response === NativeResponse) globalThis.Response = LightResponse;
}

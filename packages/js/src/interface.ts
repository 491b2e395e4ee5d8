// Which interface a loaded JavaScript app speaks: ASGI callable, fetch handler or Node request
// listener, told apart by shape alone. Pure; runs in the worker at app load.

export type JsInterface = 'asgi' | 'fetch' | 'node';
export type JsInterfaceOption = 'auto' | JsInterface;

export type Callable = (this: unknown, ...args: unknown[]) => unknown;
export type FetchMethodObject = object & { readonly fetch: Callable };

/**
 * Detection for `--interface auto`; the first rule that matches wins:
 *   1. an object with a `fetch` method                     → fetch (a Hono app, `export default { fetch }`)
 *   2. an `async function` with 3 parameters              → asgi  (`async (scope, receive, send) => …`)
 *   3. a function with exactly 1 parameter                 → fetch (`(request) => Response`)
 *   4. a function with 2 parameters, or 3 non-async ones   → node  (`(req, res) => …`, Express's `app(req, res, next)`)
 *   5. anything else (classes included)                    → undefined: the caller reports APP_INTERFACE_UNKNOWN
 * `length` counts parameters before the first default or rest one, and code compiled to ES5
 * loses `async`, so such apps need an explicit `--interface`.
 */
export function detectInterface(value: unknown): JsInterface | undefined {
  if (typeof value === 'object' && hasFetchMethod(value)) return 'fetch';
  if (!isPlainFunction(value)) return undefined;
  const parameters = value.length;
  if (parameters === 3 && isAsyncFunction(value)) return 'asgi';
  if (parameters === 1) return 'fetch';
  if (parameters === 2 || parameters === 3) return 'node';
  return undefined;
}

export function hasFetchMethod(value: unknown): value is FetchMethodObject {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && 'fetch' in value && typeof value.fetch === 'function';
}

/** A function that can be called without `new`: classes are functions too, but throw when called. */
export function isPlainFunction(value: unknown): value is Callable {
  return typeof value === 'function' && !Function.prototype.toString.call(value).startsWith('class');
}

function isAsyncFunction(fn: Callable): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/** Names a value for error messages: "a function with 0 parameters", "a number (42)". */
export function describeExport(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'function': {
      if (!isPlainFunction(value)) return 'a class';
      const plural = value.length === 1 ? '' : 's';
      return `${isAsyncFunction(value) ? 'an async function' : 'a function'} with ${String(value.length)} parameter${plural}`;
    }
    case 'object': {
      const keys = Object.keys(value);
      if (keys.length === 0) return 'an object with no properties';
      const shown = keys.slice(0, 5).join(', ');
      return `an object with properties ${shown}${keys.length > 5 ? ', …' : ''}`;
    }
    case 'string':
      return 'a string';
    case 'symbol':
      return 'a symbol';
    case 'number':
    case 'bigint':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
  }
  // Unreachable: TypeScript does not treat a switch over `typeof unknown` as exhaustive.
  return 'an unknown value';
}

/* eslint-disable @typescript-eslint/no-unused-vars -- detection reads Function.length: these parameters exist to be counted */
import { describe, expect, it } from 'vitest';
import { describeExport, detectInterface } from './interface.js';

class HonoLike {
  readonly routes: string[] = [];
  fetch = (request: Request): Response => new Response(request.url);
}

describe('detectInterface', () => {
  it('rule 1: an object with a fetch method is a fetch handler (a Hono app)', () => {
    expect(detectInterface(new HonoLike())).toBe('fetch');
    expect(detectInterface({ fetch: (_request: Request, _env: unknown, _ctx: unknown) => new Response() })).toBe('fetch');
  });

  it('rule 2: an async function with three parameters is an ASGI app', () => {
    expect(detectInterface(async (_scope: unknown, _receive: unknown, _send: unknown) => {})).toBe('asgi');
    expect(
      detectInterface(async function app(_scope: unknown, _receive: unknown, _send: unknown) {
        await Promise.resolve();
      }),
    ).toBe('asgi');
  });

  it('rule 3: a function with exactly one parameter is a fetch handler, async or not', () => {
    expect(detectInterface((_request: Request) => new Response())).toBe('fetch');
    expect(detectInterface(async (_request: Request) => Promise.resolve(new Response()))).toBe('fetch');
  });

  it("rule 4: two parameters, or three without async (Express's app(req, res, next)), is a Node listener", () => {
    expect(detectInterface((_req: unknown, _res: unknown) => undefined)).toBe('node');
    expect(detectInterface(async (_req: unknown, _res: unknown) => {})).toBe('node');
    const expressApp = function app(_req: unknown, _res: unknown, _next: unknown): void {};
    expect(detectInterface(expressApp)).toBe('node');
  });

  it('rule 5: anything else is unknown', () => {
    expect(detectInterface(() => undefined)).toBeUndefined();
    expect(detectInterface((_a: unknown, _b: unknown, _c: unknown, _d: unknown) => undefined)).toBeUndefined();
    expect(detectInterface(HonoLike)).toBeUndefined();
    expect(detectInterface({ handler: () => undefined })).toBeUndefined();
    expect(detectInterface(42)).toBeUndefined();
    expect(detectInterface(null)).toBeUndefined();
  });

  it('counts parameters the way Function.length does: defaults and rest end the count', () => {
    expect(detectInterface((_request: Request, _env: unknown = {}) => new Response())).toBe('fetch');
    expect(detectInterface((...args: unknown[]) => args)).toBeUndefined();
  });
});

describe('describeExport', () => {
  it('names what was found in words a person can act on', () => {
    expect(describeExport(undefined)).toBe('undefined');
    expect(describeExport(null)).toBe('null');
    expect(describeExport(42)).toBe('a number (42)');
    expect(describeExport('x')).toBe('a string');
    expect(describeExport(() => undefined)).toBe('a function with 0 parameters');
    expect(describeExport(async (_a: unknown) => {})).toBe('an async function with 1 parameter');
    expect(describeExport(HonoLike)).toBe('a class');
    expect(describeExport({})).toBe('an object with no properties');
    expect(describeExport({ a: 1, b: 2 })).toBe('an object with properties a, b');
  });
});

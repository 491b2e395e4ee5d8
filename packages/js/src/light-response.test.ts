import { describe, expect, it } from 'vitest';
import { LightResponse, NativeResponse, wholeBody } from './light-response.js';

type BodyInit = ConstructorParameters<typeof Response>[0];

/** What a test can compare of two Responses, the body read last. */
async function observe(response: Response): Promise<unknown[]> {
  return [response.status, response.statusText, response.ok, response.type, response.url, response.redirected, [...response.headers], response.bodyUsed, await response.text(), response.bodyUsed];
}

describe('LightResponse', () => {
  it('is observably the platform Response for the bodies it keeps', async () => {
    const bytes = new TextEncoder().encode('bytes');
    const cases: [BodyInit, ResponseInit | undefined][] = [
      ['hello', undefined],
      ['', { status: 201, statusText: 'Made', headers: { 'x-a': '1' } }],
      ['hello', { headers: { 'content-type': 'text/html' } }],
      [bytes, { headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] }],
      [null, { status: 204 }],
      [undefined, undefined],
      [new Blob(['blob']), undefined],
      [new URLSearchParams('a=1'), undefined],
    ];
    for (const [body, init] of cases) {
      expect(await observe(new LightResponse(body, init))).toEqual(await observe(new NativeResponse(body, init)));
    }
  });

  it('throws what the platform throws', () => {
    const attempts: [BodyInit, ResponseInit | undefined][] = [
      ['x', { status: 204 }],
      ['x', { status: 304 }],
      [null, { status: 99 }],
      ['x', { statusText: 'bad\nline' }],
      ['x', { headers: { 'bad name': 'v' } }],
      ['x', { headers: { a: 'bad\rvalue' } }],
    ];
    for (const [body, init] of attempts) {
      let platform: unknown;
      try {
        new NativeResponse(body, init);
      } catch (error) {
        platform = error;
      }
      expect(platform).toBeInstanceOf(Error);
      expect(() => new LightResponse(body, init)).toThrow((platform as Error).constructor);
    }
  });

  it('keeps a copy of the bytes it is given, as the platform does', async () => {
    const bytes = new TextEncoder().encode('abc');
    const response = new LightResponse(bytes);
    bytes[0] = 0x7a;
    expect(await response.text()).toBe('abc');
  });

  it('hands its whole body to the host until something uses it', async () => {
    const response = new LightResponse('kept');
    expect(wholeBody(response)).toBe('kept');
    expect(wholeBody(new NativeResponse('native'))).toBeUndefined();
    const reader = response.body?.getReader();
    expect(wholeBody(response)).toBeUndefined();
    expect(response.bodyUsed).toBe(false);
    const chunk: unknown = (await reader?.read())?.value;
    expect(chunk).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(chunk as Uint8Array).toString()).toBe('kept');
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
  });

  it('reads its body once, through every reader', async () => {
    expect(await new LightResponse('{"a":1}').json()).toEqual({ a: 1 });
    expect(new Uint8Array(await new LightResponse('ab').arrayBuffer())).toEqual(new Uint8Array([0x61, 0x62]));
    expect(await (await new LightResponse('blob').blob()).text()).toBe('blob');
    const used = new LightResponse('once');
    await used.text();
    expect(used.bodyUsed).toBe(true);
    await expect(used.arrayBuffer()).rejects.toThrow(TypeError);
    expect(() => used.clone()).toThrow(TypeError);
  });

  it('clones with its headers as they are now, before and after its body is read from', async () => {
    const response = new LightResponse('twice', { status: 202 });
    response.headers.set('x-late', '1');
    const early = response.clone();
    expect([early.status, early.headers.get('x-late'), await early.text()]).toEqual([202, '1', 'twice']);
    const reader = response.body?.getReader();
    reader?.releaseLock();
    response.headers.set('x-later', '2');
    const late = response.clone();
    expect([late.headers.get('x-later'), await late.text(), await response.text()]).toEqual(['2', 'twice', 'twice']);
  });

  it('makes JSON responses as Response.json does', async () => {
    expect(await observe(LightResponse.json({ a: [1] }, { status: 201, headers: { 'x-b': '2' } }))).toEqual(await observe(NativeResponse.json({ a: [1] }, { status: 201, headers: { 'x-b': '2' } })));
    expect(wholeBody(LightResponse.json({ a: 1 }))).toBe('{"a":1}');
    expect(() => LightResponse.json(undefined)).toThrow(TypeError);
    expect(() => LightResponse.json({}, { status: 204 })).toThrow(TypeError);
  });

  it('counts every platform Response as a Response, and keeps instanceof exact for subclasses', () => {
    class Tagged extends LightResponse {}
    expect(new NativeResponse('n') instanceof LightResponse).toBe(true);
    expect(new LightResponse('l') instanceof NativeResponse).toBe(true);
    expect(new Tagged('t') instanceof Tagged).toBe(true);
    expect(new Tagged('t') instanceof NativeResponse).toBe(true);
    expect(new NativeResponse('n') instanceof Tagged).toBe(false);
    expect(new LightResponse('l') instanceof Tagged).toBe(false);
    expect(Object.prototype.toString.call(new LightResponse('l'))).toBe('[object Response]');
  });

  it('leaves a streamed body to the platform', async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = new LightResponse(stream);
    expect(wholeBody(response)).toBeUndefined();
    expect(response.body).toBe(stream);
    expect(await response.text()).toBe('streamed');
  });
});

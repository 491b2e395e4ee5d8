import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameReader, decodeFrame } from './decode.js';
import { encodeFrame, encodeFrameParts, type EncodableFrame } from './encode.js';
import { FrameError, type Frame } from './frame.js';

interface Vectors {
  frames: { name: string; hex: string; frame: Record<string, unknown> }[];
  invalid: { name: string; hex: string }[];
}

const vectors = JSON.parse(readFileSync(new URL('../../frames/vectors.json', import.meta.url), 'utf8')) as Vectors;
const byteFields = new Set(['path', 'queryString', 'rootPath', 'body', 'bodyFile']);

/** The vectors' JSON form of a frame: byte fields as hex, headers as pairs of hex. */
function toJson(frame: Frame): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(frame)) {
    if (Buffer.isBuffer(value)) json[key] = value.toString('hex');
    else if (key === 'links') json[key] = (value as Buffer[]).map((link) => link.toString('hex'));
    else if (key === 'headers') json[key] = pairsOf(value as string[]).map(([n, v]) => [latin1Hex(n), latin1Hex(v)]);
    else json[key] = value;
  }
  return json;
}

const latin1Hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');

function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] ?? '', flat[i + 1] ?? '']);
  return pairs;
}

function fromJson(json: Record<string, unknown>): EncodableFrame {
  const frame: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (byteFields.has(key)) frame[key] = Buffer.from(value as string, 'hex');
    else if (key === 'links') frame[key] = (value as string[]).map((link) => Buffer.from(link, 'hex'));
    else if (key === 'headers') frame[key] = (value as [string, string][]).flatMap(([n, v]) => [Buffer.from(n, 'hex'), Buffer.from(v, 'hex')]);
    else frame[key] = value;
  }
  return frame as unknown as EncodableFrame;
}

describe('frame codec golden vectors (shared with the Python runner)', () => {
  it.each(vectors.frames.map((v) => [v.name, v] as const))('decodes and re-encodes %s', (_name, vector) => {
    const bytes = Buffer.from(vector.hex, 'hex');
    expect(toJson(decodeFrame(bytes))).toEqual(vector.frame);
    expect(encodeFrame(fromJson(vector.frame)).toString('hex')).toBe(vector.hex);
  });

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('refuses %s', (_name, vector) => {
    const reader = new FrameReader();
    expect(() => {
      reader.push(Buffer.from(vector.hex, 'hex'), () => undefined);
    }).toThrow(FrameError);
  });
});

describe('FrameReader', () => {
  it('reassembles frames split anywhere and hands out several from one chunk', () => {
    const all = Buffer.concat(vectors.frames.map((v) => Buffer.from(v.hex, 'hex')));
    for (const step of [1, 3, 7, 64, all.length]) {
      const reader = new FrameReader();
      const seen: string[] = [];
      for (let at = 0; at < all.length; at += step) reader.push(all.subarray(at, at + step), (frame) => seen.push(frame.type));
      expect(seen).toHaveLength(vectors.frames.length);
    }
  });

  it('hands out a response body frame with MORE as it arrives, in parts that are views of the chunks', () => {
    const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    const credit = { type: 'credit', stream: 3, bytes: 10 } as const;
    const all = Buffer.concat([
      encodeFrame({ type: 'http-response-body', stream: 3, more: true, body }),
      encodeFrame({ type: 'http-response-body', stream: 3, more: false, body: Buffer.from('end') }),
      encodeFrame(credit),
    ]);
    for (const step of [10, 11, 4096, 65_536, 199_999]) {
      const reader = new FrameReader();
      const seen: Frame[] = [];
      for (let at = 0; at < all.length; at += step) reader.push(all.subarray(at, at + step), (frame) => seen.push(frame));
      const parts = seen.filter((frame) => frame.type === 'http-response-body');
      expect(parts.length).toBeGreaterThan(2);
      expect(Buffer.concat(parts.map((part) => part.body)).equals(Buffer.concat([body, Buffer.from('end')]))).toBe(true);
      expect(parts.map((part) => part.more)).toEqual([...Array<boolean>(parts.length - 1).fill(true), false]);
      expect(parts.every((part) => part.stream === 3 && part.body.length > 0)).toBe(true);
      expect(parts.slice(0, -1).every((part) => part.body.buffer === all.buffer)).toBe(true);
      expect(seen.at(-1)).toEqual(credit);
    }
  });

  it('keeps a response body frame without MORE whole, however it arrives', () => {
    const body = Buffer.alloc(100_000, 'y');
    const all = encodeFrame({ type: 'http-response-body', stream: 1, more: false, body });
    const reader = new FrameReader();
    const seen: Frame[] = [];
    for (let at = 0; at < all.length; at += 4096) reader.push(all.subarray(at, at + 4096), (frame) => seen.push(frame));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.type === 'http-response-body' && seen[0].body.equals(body)).toBe(true);
  });

  it('encodes header strings as latin-1 bytes', () => {
    const bytes = encodeFrame({ type: 'http-response', stream: 3, trailers: false, status: 200, headers: ['x-name', 'café'] });
    const frame = decodeFrame(bytes);
    expect(frame.type === 'http-response' && frame.headers).toEqual(['x-name', 'café']);
    expect(bytes.includes(Buffer.from('636166e9', 'hex'))).toBe(true);
  });

  it('writes short and long strings alike: headers as latin-1, text as UTF-8', () => {
    const long = (text: string) => text.repeat(40);
    const values = ['café', 'Ł', 'plain', long('café'), long('Ł'), long('plain')];
    const response = decodeFrame(encodeFrame({ type: 'http-response', stream: 3, trailers: false, status: 200, headers: values.flatMap((value) => ['x-name', value]) }));
    expect(response.type === 'http-response' && pairsOf(response.headers).map(([, value]) => latin1Hex(value))).toEqual(values.map(latin1Hex));
    for (const text of ['GET', 'ünï', '日本', long('ünï'), long('x')]) {
      const log = decodeFrame(encodeFrame({ type: 'log', stream: 0, source: 'runner', level: 20, logger: text, text }));
      expect(log.type === 'log' && [log.logger, log.text]).toEqual([text, text]);
    }
  });

  it('refuses a payload over the limit when encoding', () => {
    expect(() => encodeFrame({ type: 'http-body', stream: 1, more: true, body: Buffer.alloc(1024 * 1024) })).toThrow(FrameError);
    expect(() => encodeFrameParts({ type: 'http-body', stream: 1, more: true, body: Buffer.alloc(1024 * 1024) })).toThrow(FrameError);
  });
});

describe('encodeFrameParts', () => {
  const large = Buffer.alloc(64 * 1024, 'x');
  const frames: EncodableFrame[] = [
    { type: 'http-body', stream: 5, more: true, body: large },
    { type: 'http-body', stream: 5, more: false, body: Buffer.from('small') },
    { type: 'ws-message', stream: 9, more: false, text: true, body: large },
    { type: 'credit', stream: 5, bytes: 1024 },
  ];

  it("gives encodeFrame's bytes, a large body as its own buffer, not copied", () => {
    for (const frame of frames) {
      const parts = encodeFrameParts(frame);
      expect(Buffer.concat(parts).equals(encodeFrame(frame))).toBe(true);
      const body = 'body' in frame ? frame.body : undefined;
      expect(parts.at(-1) === body).toBe(body === large);
    }
  });
});

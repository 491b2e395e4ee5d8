import { describe, expect, it } from 'vitest';
import { PREFACE, readPreface } from './h2c-preface.js';

describe('readPreface', () => {
  it('says h2 once the whole preface came, with or without the frames after it', () => {
    expect(readPreface(PREFACE)).toBe('h2');
    expect(readPreface(Buffer.concat([PREFACE, Buffer.from([0, 0, 0, 4])]))).toBe('h2');
  });

  it('waits while the bytes so far are the start of the preface', () => {
    expect(readPreface(Buffer.alloc(0))).toBe('incomplete');
    expect(readPreface(PREFACE.subarray(0, 10))).toBe('incomplete');
  });

  it('says h1 at the first byte that differs, HTTP/1.1 methods that start alike included', () => {
    expect(readPreface(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('h1');
    expect(readPreface(Buffer.from('PUT'))).toBe('h1');
    expect(readPreface(Buffer.from('PRI * HTTP/1.1\r\n'))).toBe('h1');
  });
});

import { describe, expect, it } from 'vitest';
import { unixAddress } from './unix-datagram.js';

describe('unix datagram addresses', () => {
  it('address a path with a trailing NUL, and an abstract socket with a leading one', () => {
    expect(unixAddress('/run/n')).toEqual(Buffer.from([1, 0, ...Buffer.from('/run/n'), 0]));
    expect(unixAddress('@n')).toEqual(Buffer.from([1, 0, 0, ...Buffer.from('n')]));
  });
});

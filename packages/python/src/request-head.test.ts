import { describe, expect, it } from 'vitest';
import { splitTarget } from './request-head.js';

describe('splitTarget', () => {
  it('splits an origin-form target at its first ?', () => {
    expect(splitTarget('/a/b?x=1&y=/z?')).toEqual({ path: '/a/b', query: 'x=1&y=/z?' });
    expect(splitTarget('/plain')).toEqual({ path: '/plain', query: '' });
    expect(splitTarget('*')).toEqual({ path: '*', query: '' });
  });

  it('keeps only the path and query of an absolute-form target, as a proxy client sends it', () => {
    expect(splitTarget('http://example.com/path?q')).toEqual({ path: '/path', query: 'q' });
    expect(splitTarget('https://user@example.com:8443/a/b')).toEqual({ path: '/a/b', query: '' });
    expect(splitTarget('http://example.com')).toEqual({ path: '/', query: '' });
    // The authority ends at a ? as well: a / in the query is no path.
    expect(splitTarget('http://example.com?next=/home')).toEqual({ path: '/', query: 'next=/home' });
  });
});

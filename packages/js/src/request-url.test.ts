import { describe, expect, it } from 'vitest';
import { requestHref } from './request-url.js';

const hosts = [
  'example.test', 'example.test:8080', 'localhost', 'localhost:80', 'localhost:443', 'a-b.c1.example', '127.0.0.1', '127.0.0.1:3000',
  '1.2.3', '127.1', '256.1.1.1', '01.2.3.4', 'a.b.0x10', 'Example.Test', 'xn--abc.test', 'a.xn--abc', 'a_b.test', 'h:0080', 'h:65536', 'h:0',
  '[::1]:8000', 'bad host', 'a..b', 'a.', '', 'h:', 'h:1:2',
];
const targets = [
  '/', '/a/b?c=d&e', '/a b', "/a?b='c", '/a/%2e%2e/b', '/a/../b', '/a/./b', '/a/..', '/a/..?x', '/a\\b', '/a#b', '/a|b^c', '/{x}',
  '/é', '/~user/_x-y.z', '/a?x=/../', '//double', '/a;b,c=d:e@f!$&()*+', '*',
];

function viaParser(host: string, target: string): string {
  return new URL(`http://${host}${target}`).href;
}

describe('requestHref', () => {
  it('spells every URL as the WHATWG parser does, and fails where it fails', () => {
    for (const host of hosts) {
      for (const target of targets) {
        let expected: string | Error;
        try {
          expected = viaParser(host, target);
        } catch (error) {
          expected = error as Error;
        }
        if (expected instanceof Error) expect(() => requestHref('http', host, target), `${host} ${target}`).toThrow(TypeError);
        else expect(requestHref('http', host, target), `${host} ${target}`).toBe(expected);
      }
    }
  });

  it('drops the default port of the scheme', () => {
    expect(requestHref('https', 'example.test:443', '/')).toBe('https://example.test/');
    expect(requestHref('https', 'example.test:80', '/')).toBe('https://example.test:80/');
  });
});

// The absolute URL a fetch handler's Request carries, from the Host header and the request
// target: by concatenation when the WHATWG URL parser would give the same text back, else
// through it. Pure; runs in the worker, per request.

// A host the URL parser keeps as it is: lower-case labels whose last one starts with a letter
// (one that ends in a number is read as IPv4, "1.2.3" becomes "1.2.0.3"), no punycode label
// to check, or a dotted quad written canonically; then a port other than http's 80.
const PLAIN_NAME = /^(?:(?!xn--)[a-z0-9-]+\.)*(?!xn--)[a-z][a-z0-9-]*$/;
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const PORT = /^[1-9]\d{0,4}$/;
// A path and query the parser neither escapes nor normalises: no `%` (a `%2e` can be a dot
// segment), no quote (escaped in the query), no space, backslash or other character it escapes.
const PLAIN_TARGET = /^\/[\w\-.~!$&()*+,;=:@/?]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/;

/**
 * `scheme://host` and the target (origin form, or `*`: the caller takes the path and query out of
 * an absolute form) as `new URL(...).href` spells it; throws a TypeError when that is no URL.
 */
export function requestHref(scheme: 'http' | 'https', host: string, target: string): string {
  const href = `${scheme}://${host}${target}`;
  if (plainHost(host, scheme) && PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target)) return href;
  return new URL(href).href;
}

function plainHost(host: string, scheme: 'http' | 'https'): boolean {
  const colon = host.lastIndexOf(':');
  const name = colon === -1 ? host : host.slice(0, colon);
  if (!PLAIN_NAME.test(name) && !DOTTED_QUAD.test(name)) return false;
  if (colon === -1) return true;
  const port = host.slice(colon + 1);
  return PORT.test(port) && Number(port) <= 65_535 && Number(port) !== (scheme === 'http' ? 80 : 443);
}

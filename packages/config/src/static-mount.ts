// Static mounts: the syntax of `--static URL_PREFIX=DIRECTORY`, shared by validation (here) and
// the worker's static file server. Runs in the master and in workers.
import { BicornError } from '@bicorn/protocol';
import { text, type ValueType } from './values.js';

export interface StaticMount {
  /** Starts and ends with a slash: `/static/`, or `/` for the whole site. */
  readonly prefix: string;
  /** As given: relative to chdir, or absolute. */
  readonly directory: string;
}

/** Parses `URL_PREFIX=DIRECTORY` (split at the first `=`); returns a problem text when it cannot. */
export function parseStaticMount(value: string): StaticMount | string {
  const equals = value.indexOf('=');
  if (equals === -1) return 'URL_PREFIX=DIRECTORY, such as /static/=staticfiles';
  const prefix = value.slice(0, equals).trim();
  const directory = value.slice(equals + 1).trim();
  if (!prefix.startsWith('/')) return `the URL prefix must start with /, got "${prefix}"`;
  if (directory === '') return 'a directory after the =';
  const segments = prefix.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  // Matched against the decoded path, segment by segment: no encoding, query or dot segment here.
  const bad = segments.find((s) => s === '' || s === '.' || s === '..' || /[\s%?#\\]/.test(s));
  if (bad !== undefined) return `the URL prefix "${prefix}" has an empty, dot or encoded segment; write it as the decoded path, such as /static/`;
  return { prefix: segments.length === 0 ? '/' : `/${segments.join('/')}/`, directory };
}

/** The mounts of a validated config (the `static` setting). */
export function staticMounts(values: readonly string[]): StaticMount[] {
  return values.map((value) => {
    const mount = parseStaticMount(value);
    if (typeof mount === 'string') throw new BicornError('CONFIG_INVALID', { problems: [`static: expected URL_PREFIX=DIRECTORY (${mount}), got "${value}"`] });
    return mount;
  });
}

export const staticMount: ValueType<string> = text('<URL_PREFIX=DIR>', (value) => {
  const parsed = parseStaticMount(value);
  return typeof parsed === 'string' ? `URL_PREFIX=DIRECTORY (${parsed})` : undefined;
});

/** `*` or one origin, as Access-Control-Allow-Origin takes it. */
export const corsOrigin: ValueType<string> = text('<origin|*>', (value) =>
  value === '*' || /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#]+$/i.test(value) ? undefined : '"*" or an origin such as https://example.com',
);

// The globs of --reload-include and --reload-exclude: `*` and `?` within a name, `**` across
// folders. A pattern without `/` is matched against the file's name, one with `/` against its
// path inside the watched folder. Runs in the master.

/** Returns a test of (name, relative path) against any of the patterns. */
export function globMatcher(patterns: readonly string[]): (name: string, path: string) => boolean {
  const compiled = patterns.map((pattern) => ({ onPath: pattern.includes('/'), regex: toRegex(pattern) }));
  return (name, path) => compiled.some(({ onPath, regex }) => regex.test(onPath ? path : name));
}

function toRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of folders, none included.
      const slash = pattern[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

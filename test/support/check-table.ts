// Reading what `bicorn check` prints, for the end-to-end tests of where values come from.

/** The rows of `bicorn check`: setting → [value, source]. */
export function checkRows(stdout: string): Map<string, [string, string]> {
  const table = new Map<string, [string, string]>();
  for (const line of stdout.split('\n')) {
    const match = /^ {2}(\w+) +(.+?) {2,}(.+)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined && match[3] !== undefined) table.set(match[1], [match[2], match[3]]);
  }
  return table;
}

#!/usr/bin/env node
// The harness's self-check (no test runner, no speeds): a report must hold the machine facts,
// a well-formed ratio table with a row per expected scenario, a medians table whose numbers
// (CPU per request included) parse, and the table of starts and memory. main.mjs runs it on what it wrote; `node scripts/bench/check-report.mjs
// [file]` checks a saved report (default results/latest.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resultsDir } from './paths.mjs';

/** Every table of a markdown text: its header, separator and rows, cells trimmed. */
export function tables(markdown) {
  const found = [];
  let current;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split('|').map((cell) => cell.trim());
      if (current === undefined) found.push((current = { header: cells, separator: undefined, rows: [] }));
      else if (current.separator === undefined) current.separator = cells;
      else current.rows.push(cells);
    } else {
      current = undefined;
    }
  }
  return found;
}

/** Problems with the report, one sentence each; none means it is valid. */
export function checkReport(markdown, expectedScenarioTitles = []) {
  const problems = [];
  for (const fact of ['CPU:', 'Kernel:', 'Load:', '## Versions']) {
    if (!markdown.includes(fact)) problems.push(`no "${fact}" in the report`);
  }
  const all = tables(markdown);
  for (const t of all) {
    if (t.separator === undefined || !t.separator.every((cell) => /^:?-{3,}:?$/.test(cell))) problems.push(`table "${t.header.join(' | ')}" has no separator row`);
    for (const row of t.rows) {
      if (row.length !== t.header.length) problems.push(`a row of "${t.header[0]}…" has ${row.length} cells, the header ${t.header.length}: ${row.join(' | ')}`);
    }
  }
  const ratiosTable = all.find((t) => t.header.includes('peer') && t.header.includes('throughput'));
  const mediansTable = all.find((t) => t.header.includes('server') && t.header.includes('p99 ms'));
  if (ratiosTable === undefined || ratiosTable.rows.length === 0) problems.push('no ratio table, or an empty one');
  if (mediansTable === undefined || mediansTable.rows.length === 0) problems.push('no medians table, or an empty one');
  if (ratiosTable !== undefined) {
    const seen = new Set(ratiosTable.rows.map((row) => row[0]));
    for (const title of expectedScenarioTitles) if (!seen.has(title)) problems.push(`no ratio row for "${title}"`);
    const column = ratiosTable.header.indexOf('throughput');
    for (const row of ratiosTable.rows) {
      if (!/^(\d+\.\d\d×|∞|n\/a)$/.test(row[column] ?? '')) problems.push(`ratio "${row[column]}" of "${row[0]}" is not a number`);
    }
  }
  if (mediansTable !== undefined) {
    const column = mediansTable.header.indexOf('throughput');
    const measured = mediansTable.rows.filter((row) => /^[\d,.]+ /.test(row[column] ?? ''));
    if (measured.length === 0) problems.push('no server in the medians table has a throughput');
    const cpu = mediansTable.header.indexOf('CPU µs/req');
    if (cpu === -1) problems.push('the medians table has no "CPU µs/req" column');
    // A server that answered nothing (gunicorn sync under slow clients) has no CPU per request.
    else for (const row of measured) if (!/^\d+\.\d$/.test(row[cpu] ?? '') && !(row[cpu] === 'n/a' && /^0(\.0)? /.test(row[column] ?? ''))) problems.push(`CPU µs/req "${row[cpu]}" of "${row[0]}, ${row[2]}" is not a number`);
  }
  const startTable = all.find((t) => t.header.includes('start s'));
  if (startTable === undefined || startTable.rows.length === 0) problems.push('no start, boot and memory table, or an empty one');
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? join(resultsDir, 'latest.md');
  const problems = checkReport(readFileSync(file, 'utf8'));
  for (const problem of problems) console.error(`check-report: ${problem}`);
  console.log(problems.length === 0 ? `check-report: ${file} is a valid report` : `check-report: ${file} has ${problems.length} problems`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

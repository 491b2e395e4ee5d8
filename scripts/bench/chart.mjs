// The ratio chart (results/latest.svg), written by hand: one bar per bicorn/peer pair, the
// throughput ratio on a log scale centred on 1×, green where bicorn is ahead, red where it is
// behind, grey and hatched where a run was invalid. Pure: returns the SVG text.
import { formatRatio } from './report.mjs';

const PLOT_WIDTH = 440;
const RIGHT_MARGIN = 110;
// About the advance of a 12 px sans-serif character, to fit the longest row name.
const CHAR_WIDTH = 6.8;
const ROW = 22;
const TOP = 78;
const LOG_MIN = -3; // 1/8×
const LOG_MAX = 3; // 8×

const TICKS = ['⅛×', '¼×', '½×', '1×', '2×', '4×', '8×'];

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const rowLabel = (row) => `${row.scenario.title}, -w ${row.workers}: ${row.bicorn.server.label} vs ${row.peer.server.label}`;

export function renderSvg({ facts, rows, title }) {
  const labelWidth = Math.ceil(Math.max(200, ...rows.map((row) => rowLabel(row).length * CHAR_WIDTH)) + 10);
  const plotLeft = labelWidth + 10;
  const width = Math.max(900, plotLeft + PLOT_WIDTH + RIGHT_MARGIN);
  const x = (ratio) => {
    const log = Math.min(LOG_MAX, Math.max(LOG_MIN, Math.log2(ratio)));
    return plotLeft + ((log - LOG_MIN) / (LOG_MAX - LOG_MIN)) * PLOT_WIDTH;
  };
  const height = TOP + rows.length * ROW + 40;
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push('<defs><pattern id="invalid" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ccc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/></pattern></defs>');
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="10" y="22" font-size="16" font-weight="bold">${escape(title)}</text>`);
  parts.push(`<text x="10" y="42" fill="#444">${escape(`${facts.cpu}, ${facts.cores} cores, ${facts.kernel}; ${facts.loadTool} on the same cores; ${facts.date}`)}</text>`);
  parts.push(`<text x="10" y="60" fill="#444">${escape('throughput of bicorn / throughput of the peer, same worker count (log scale; right of 1× = bicorn ahead)')}</text>`);

  const bottom = TOP + rows.length * ROW;
  for (let log = LOG_MIN; log <= LOG_MAX; log += 1) {
    const tickX = x(2 ** log).toFixed(1);
    parts.push(`<line x1="${tickX}" y1="${TOP - 6}" x2="${tickX}" y2="${bottom}" stroke="${log === 0 ? '#000' : '#ddd'}" stroke-width="${log === 0 ? 1.5 : 1}"/>`);
    parts.push(`<text x="${tickX}" y="${bottom + 16}" text-anchor="middle" fill="#444">${TICKS[log - LOG_MIN]}</text>`);
  }

  rows.forEach((row, index) => {
    const y = TOP + index * ROW;
    parts.push(`<text x="${labelWidth}" y="${y + 15}" text-anchor="end">${escape(rowLabel(row))}</text>`);
    const ratio = row.throughput;
    if (Number.isNaN(ratio) || ratio <= 0) {
      parts.push(`<text x="${x(1) + 6}" y="${y + 15}" fill="#888">not measured</text>`);
      return;
    }
    const from = x(1);
    const to = x(ratio);
    const fill = !row.valid ? 'url(#invalid)' : ratio >= 1 ? '#2e7d32' : '#c62828';
    parts.push(`<rect x="${Math.min(from, to).toFixed(1)}" y="${y + 4}" width="${Math.max(1, Math.abs(to - from)).toFixed(1)}" height="${ROW - 8}" fill="${fill}"/>`);
    const text = ratio === Infinity ? '∞ (peer: none)' : `${formatRatio(ratio)}${row.valid ? '' : ' invalid'}`;
    // A label that would run into the row's name goes right of the 1× line instead.
    const left = ratio < 1 && Math.min(from, to) - 4 - text.length * 7 > plotLeft;
    const textX = left ? Math.min(from, to) - 4 : Math.max(from, to) + 4;
    parts.push(`<text x="${textX.toFixed(1)}" y="${y + 15}" text-anchor="${left ? 'end' : 'start'}">${escape(text)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

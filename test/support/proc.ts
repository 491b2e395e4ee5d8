// What /proc tells end-to-end tests about a process bicorn started: its memory.
import { readFileSync } from 'node:fs';

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${String(pid)}/status`);
  return Number(match[1]);
}

/** The peak resident memory of a process so far, in KiB. */
export const peakRssKb = (pid: number): number => statusKb(pid, 'VmHWM');

/** The resident memory of a process now, in bytes. */
export const rssBytes = (pid: number): number => statusKb(pid, 'VmRSS') * 1024;

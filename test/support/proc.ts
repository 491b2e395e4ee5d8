// What /proc tells end-to-end tests about the processes bicorn started: their memory, what
// they read, their sockets, and which of them are still alive.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${String(pid)}/status`);
  return Number(match[1]);
}

/** The peak resident memory of a process so far, in KiB. */
export const peakRssKb = (pid: number): number => statusKb(pid, 'VmHWM');

/** The resident memory of a process now, in bytes. */
export const rssBytes = (pid: number): number => statusKb(pid, 'VmRSS') * 1024;

/** The bytes a process has read so far, from files, pipes and sockets alike (rchar of /proc/<pid>/io). */
export function bytesRead(pid: number): number {
  const match = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${String(pid)}/io`, 'utf8'));
  if (match === null) throw new Error(`no rchar in /proc/${String(pid)}/io`);
  return Number(match[1]);
}

export interface Member {
  readonly pid: number;
  readonly command: string;
}

/** The live processes of a process group (zombies, already dead, left out). */
export function groupMembers(pgid: number): Member[] {
  const members: Member[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    let command: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue; // Gone meanwhile.
    }
    // Fields after the command's closing parenthesis: state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push({ pid: Number(entry), command });
  }
  return members;
}

/** The socket descriptors a process holds now. */
export function socketDescriptors(pid: number): number {
  return readdirSync(`/proc/${String(pid)}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${String(pid)}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // Closed meanwhile.
    }
  }).length;
}

/** The pid of the app's Python process among a bicorn's processes (its runner has --app). */
export function pythonPidOf(pgid: number): number {
  const python = groupMembers(pgid).find((member) => member.command.includes(' --app '));
  if (python === undefined) throw new Error('no Python process in the group');
  return python.pid;
}

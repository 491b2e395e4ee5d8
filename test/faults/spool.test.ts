import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { post } from '../support/http.js';
import { pollUntil } from '../support/poll.js';
import { hasPython, servePython } from '../support/python.js';

const MiB = 1024 * 1024;
const BUDGET = 8 * MiB;

/** Bytes in the spool files a process holds open (unlinked, so only /proc sees them). */
function spooled(pid: number, dir: string): number {
  let total = 0;
  for (const fd of readdirSync(`/proc/${String(pid)}/fd`)) {
    try {
      if (readlinkSync(`/proc/${String(pid)}/fd/${fd}`).startsWith(join(dir, 'bicorn-'))) total += statSync(`/proc/${String(pid)}/fd/${fd}`).size;
    } catch {
      // closed meanwhile
    }
  }
  return total;
}

/** A client that asks for a big response and never reads it. */
function neverReads(url: string, path: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    socket.pause();
  });
  socket.on('error', () => undefined);
  return socket;
}

describe.skipIf(!hasPython)('clients that never read', () => {
  it('fill no more of the disk than the spool budget; past it uploads that do not fit upload_memory get 503, and the budget comes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bicorn-spool-'));
    onTestFinished(() => {
      rmSync(dir, { recursive: true });
    });
    const bicorn = servePython('faults_wsgi:application', ['-w', '1', '--threads', '8', '--spool-dir', dir, '--spool-budget', String(BUDGET), '--upload-memory', String(MiB), '--graceful-timeout', '1']);
    const url = await bicorn.listening();
    const worker = bicorn.workerPid();
    const clients = Array.from({ length: 3 }, () => neverReads(url, '/big?mb=64'));
    await pollUntil('the spool budget to be spent', () => (spooled(worker, dir) > BUDGET - MiB ? true : undefined), 20_000);
    const upload = 'x'.repeat(2 * MiB);
    expect(await post(`${url}/upload`, upload)).toMatchObject({ status: 503 });
    expect(spooled(worker, dir)).toBeLessThanOrEqual(BUDGET);
    console.log(`[figure] 3 clients that never read 64 MiB responses: ${(spooled(worker, dir) / MiB).toFixed(1)} MiB on disk for a budget of ${String(BUDGET / MiB)} MiB`);
    for (const client of clients) client.destroy();
    await pollUntil('the spool files to close', () => (spooled(worker, dir) === 0 ? true : undefined));
    expect(await post(`${url}/upload`, upload)).toEqual({ status: 200, body: String(2 * MiB) });
    expect(bicorn.lines.filter((l) => l.msg.startsWith('upload refused with 503: the spool budget is spent'))).toHaveLength(1);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

describe.skipIf(!hasPython || !existsSync('/proc/self/fd'))('a Python process killed while its app reads uploads from the spool files', () => {
  it('answers those 502, closes the files in the worker, gives the budget back, and the next process serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bicorn-spool-'));
    onTestFinished(() => {
      rmSync(dir, { recursive: true });
    });
    // Bodies past the window go to the spool at once, and the Python process reads them there.
    const bicorn = servePython('faults_wsgi:application', ['-w', '1', '--threads', '2', '--spool-dir', dir, '--spool-budget', String(BUDGET), '--upload-memory', String(MiB)]);
    const url = await bicorn.listening();
    const worker = bicorn.workerPid();
    const held = [post(`${url}/upload-hang`, 'x'.repeat(3 * MiB)), post(`${url}/upload-hang`, 'y'.repeat(3 * MiB))];
    const readers = await pollUntil('the app to read both bodies', () => {
      const lines = bicorn.lines.filter((l) => l.msg.startsWith('read /upload-hang '));
      return lines.length === 2 ? lines : undefined;
    });
    const python = Number(readers[0]?.msg.split(' ')[2]);
    // The app reads them from the files themselves, not from frames.
    expect(spooled(python, dir)).toBe(6 * MiB);
    expect(spooled(worker, dir)).toBe(6 * MiB);
    process.kill(python, 'SIGKILL');
    expect(await Promise.all(held)).toEqual([
      { status: 502, body: 'Bad Gateway\n' },
      { status: 502, body: 'Bad Gateway\n' },
    ]);
    await pollUntil(() => `the worker to close its spool files (${String(spooled(worker, dir))} bytes open)`, () => (spooled(worker, dir) === 0 ? true : undefined), 5_000);
    // 7 MiB fits the 8 MiB budget only if the 6 MiB of the lost bodies came back (upload_memory is 1 MiB).
    expect(await post(`${url}/upload`, 'z'.repeat(7 * MiB))).toEqual({ status: 200, body: String(7 * MiB) });
    expect(bicorn.workerPids()).toEqual([worker]);
    expect((await bicorn.stop()).code).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BicornProcess, fixture } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { rssBytes } from './support/proc.js';
import { wsUrl } from './support/websocket.js';

const APP = fixture('apps/asgi-ws-flow.mjs');
const MiB = 1024 * 1024;
const MESSAGE = 64 * 1024;
const MESSAGES = 1536; // 96 MiB each way: far more than the window and the kernel's buffers
// What loopback TCP buffers hold when the reader does not read (about 4 MiB measured here),
// with room for machines that tune them larger.
const KERNEL_ALLOWANCE = 16 * MiB;

async function serve(args: readonly string[]): Promise<{ bicorn: BicornProcess; url: string; workerPid: number }> {
  const bicorn = new BicornProcess(['-b', '127.0.0.1:0', ...args, APP], { env: { FLOOD_MESSAGES: String(MESSAGES) } });
  const url = await bicorn.listening();
  await bicorn.waitForLog('the worker ready line', (l) => l.msg === 'worker ready');
  return { bicorn, url, workerPid: bicorn.workerPid() };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

describe('WebSocket flow control for a JavaScript ASGI app', () => {
  it("makes the app's send() wait past --stream-window while the client does not read, and delivers every message once it does", async () => {
    const window = 8 * MiB;
    const { bicorn, url, workerPid } = await serve(['--stream-window', String(window)]);
    const baseline = rssBytes(workerPid);
    const ws = await open(wsUrl(url, '/flood'));
    try {
      ws.pause();
      const received: number[] = [];
      ws.on('message', (data: Buffer) => received.push(data.length === MESSAGE ? (data[0] ?? -1) : -1));
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));

      const waited = await bicorn.waitForLog('the app to report a send() that waited', (l) => l.msg === 'fixture flood waited');
      const sentBytes = waited.sentBytes as number;
      // Under the window send() resolved at once; past it (and the kernel's buffers), it waited.
      expect(sentBytes).toBeGreaterThanOrEqual(window);
      expect(sentBytes).toBeLessThanOrEqual(window + KERNEL_ALLOWANCE);
      expect(bicorn.lines.some((l) => l.msg === 'fixture flood done')).toBe(false);
      const growth = rssBytes(workerPid) - baseline;
      expect(growth).toBeLessThan(window + 32 * MiB);

      ws.resume();
      expect(await closed).toBe(1000);
      expect(received).toHaveLength(MESSAGES);
      expect(received.every((fill, i) => fill === i % 251)).toBe(true);
    } finally {
      ws.terminate();
    }
    await bicorn.waitForLog('the flood to finish', (l) => l.msg === 'fixture flood done');
    expect((await bicorn.stop()).code).toBe(0);
  });

  it('holds at most --stream-window of messages for an app that does not receive, pausing the client, and loses none', async () => {
    const window = 1 * MiB;
    const { bicorn, url, workerPid } = await serve(['--stream-window', String(window), '--log-level', 'debug']);
    const baseline = rssBytes(workerPid);
    const ws = await open(wsUrl(url, '/hold'));
    try {
      const answer = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
      const payload = Buffer.alloc(MESSAGE, 7);
      for (let i = 0; i < MESSAGES; i++) ws.send(payload);
      ws.send('done');

      await bicorn.waitForLog('the worker to pause reading', (l) => l.msg.startsWith('WebSocket receive window full'));
      // What the worker did not take stays with the client.
      expect(ws.bufferedAmount).toBeGreaterThan(MESSAGES * MESSAGE - window - KERNEL_ALLOWANCE);
      expect(rssBytes(workerPid) - baseline).toBeLessThan(window + 32 * MiB);

      expect((await get(`${url}/release`)).body).toBe('released');
      const drained = await bicorn.waitForLog("the app's report", (l) => l.msg === 'fixture hold drained');
      // Past the window the socket is paused; the message that crossed it and the rest of one read still arrive.
      expect(drained.heldBytes).toBeGreaterThanOrEqual(window);
      expect(drained.heldBytes).toBeLessThanOrEqual(window + 4 * MESSAGE);
      expect(drained.totalBytes).toBe(MESSAGES * MESSAGE);
      expect(await answer).toBe(`took ${String(MESSAGES * MESSAGE)}`);
      ws.close();
    } catch (error) {
      ws.terminate();
      throw error;
    }
    expect((await bicorn.stop()).code).toBe(0);
  });
});

// End-to-end checks of WebSocket flow control between a client and a Python ASGI app
// (test/fixtures/python/raw_asgi.py), whose process runs the connection on the lent socket: an
// app that sends faster than its client reads waits, with the worker holding no more than the
// window and a message, and a client that sends faster than the app reads is held back within
// the window instead of overrunning it.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { isRootWarning } from './support/bicorn-process.js';
import { get } from './support/http.js';
import { peakRssKb } from './support/proc.js';
import { hasPython, noPython } from './support/python.js';
import { serveRaw } from './support/raw-asgi.js';
import { openWs, wsUrl } from './support/websocket.js';

// The runner sends a message in frames of 256 KiB: one byte more makes its last frame a single
// byte, the worst case for a worker that credited all but the last frame of each message.
const MESSAGE_SIZE = 256 * 1024 + 1;
const FLOOD_COUNT = 2048;
/** Messages of 600 KiB to an app that reads none yet: more than the windows of its process and worker. */
const SLOW_READER_MESSAGES = 8;
/** A worker that held what the app sent would be past 512 MiB; its own footprint is under 100. */
const WORKER_PEAK_LIMIT_KB = 200 * 1024;

/** The app's count of messages sent, once it has stopped changing for half a second (polled). */
async function settledCount(url: string, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let sameSince = Date.now();
  for (;;) {
    const seen = JSON.parse((await get(`${url}/observed`)).body) as { flood_sent?: number };
    const count = seen.flood_sent ?? -1;
    if (count !== last) {
      last = count;
      sameSince = Date.now();
    } else if (count >= 0 && Date.now() - sameSince >= 500) {
      return count;
    }
    if (Date.now() > deadline) throw new Error(`the app's count of sent messages never settled; last ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!hasPython)(`WebSocket flow control with a Python ASGI app${noPython}`, () => {
  it('makes the sends of an app wait for a client that does not read, the worker holding no more than the window and a message', { timeout: 60_000 }, async () => {
    const bicorn = serveRaw();
    const url = await bicorn.listening();
    const ws = new WebSocket(wsUrl(url, `/ws/flood?count=${String(FLOOD_COUNT)}&size=${String(MESSAGE_SIZE)}`));
    try {
      let received = 0;
      ws.on('message', () => (received += 1));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.pause(); // the client reads nothing for now
      const sentWhilePaused = await settledCount(url);
      // Only the socket buffers, the window and a message or two fit before the app must wait.
      expect(sentWhilePaused).toBeLessThan(FLOOD_COUNT / 8);
      expect(peakRssKb(bicorn.workerPid())).toBeLessThan(WORKER_PEAK_LIMIT_KB);
      ws.resume();
      await bicorn.waitForLog('the app to send its last message', (l) => l.msg === 'raw_asgi: flood done');
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (received === FLOOD_COUNT) resolve();
          else ws.once('message', check);
        };
        check();
      });
      expect(peakRssKb(bicorn.workerPid())).toBeLessThan(WORKER_PEAK_LIMIT_KB);
    } finally {
      ws.terminate();
    }
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('holds back a client that sends faster than the app reads, within the window', async () => {
    const bicorn = serveRaw(['--log-level', 'debug']);
    const url = await bicorn.listening();
    const client = await openWs(wsUrl(url, '/ws/slow-reader'));
    try {
      // Each message is most of the window: the app's process holds about two before it must
      // stop reading the client, with the app reading nothing.
      for (let i = 0; i < SLOW_READER_MESSAGES; i++) client.ws.send(Buffer.alloc(600 * 1024, i));
      client.ws.send('done');
      await bicorn.waitForLog('reading to pause', (l) => l.msg.startsWith('WebSocket receive window full'));
      expect((await get(`${url}/release`)).body).toBe('released');
      for (let i = 0; i < SLOW_READER_MESSAGES; i++) expect((await client.next()).data).toBe(`got ${String(600 * 1024)}`);
      expect((await client.next()).data).toBe('done');
      client.ws.close();
      await client.closed;
    } catch (error) {
      client.ws.terminate();
      throw error;
    }
    expect((await bicorn.stop()).code).toBe(0);
    expect(bicorn.lines.filter((l) => l.level >= 40 && !isRootWarning(l))).toEqual([]);
  });
});

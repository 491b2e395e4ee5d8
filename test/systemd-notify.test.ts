// sd_notify end to end: a datagram socket owned by the test stands in for systemd's
// NOTIFY_SOCKET (a small Python receiver, as node has no unix datagram sockets), and records
// each message with the sender's pid from SCM_CREDENTIALS, as systemd checks it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BicornProcess, fixture, isRootWarning } from './support/bicorn-process.js';
import { hasPython, noPython } from './support/python.js';
import { tempDir } from './support/temp-dir.js';

const APP = fixture('apps/fetch.mjs');

const RECEIVER = `import json, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data, ancillary, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = next((struct.unpack("iII", d)[0] for level, kind, d in ancillary if kind == socket.SCM_CREDENTIALS), None)
    print(json.dumps({"ms": time.monotonic() * 1000, "pid": pid, "message": data.decode()}), flush=True)
`;

interface Datagram {
  readonly ms: number;
  readonly pid: number;
  readonly message: string;
}

class NotifySocket {
  readonly path = join(tempDir('bicorn-notify-'), 'notify.sock');
  readonly received: Datagram[] = [];
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  readonly bound: Promise<void>;

  constructor() {
    this.#child = spawn('python3', ['-c', RECEIVER, this.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let partial = '';
    let onBound: () => void = () => undefined;
    this.bound = new Promise((resolve) => (onBound = resolve));
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const parsed = JSON.parse(line) as Datagram | { bound: true };
        if ('bound' in parsed) onBound();
        else this.received.push(parsed);
      }
      for (const waiter of this.#waiters) waiter();
    });
  }

  /** Waits until `count` messages matching `match` have arrived. */
  async waitFor(what: string, match: (d: Datagram) => boolean, count = 1, timeoutMs = 20_000): Promise<Datagram[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.received.filter(match);
        if (found.length < count) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; received:\n${this.received.map((d) => JSON.stringify(d.message)).join('\n')}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.#child.kill('SIGKILL');
  }
}

const sockets: NotifySocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

const isWatchdog = (d: Datagram): boolean => d.message === 'WATCHDOG=1';

describe.skipIf(!hasPython)(`sd_notify${noPython}`, () => {
  it('tells systemd READY, RELOADING then READY on HUP, WATCHDOG at half its period, and STOPPING on TERM, from the main pid', async () => {
    const notify = new NotifySocket();
    sockets.push(notify);
    await notify.bound;
    // WATCHDOG_USEC of 0.4 s: a ping every 200 ms.
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { env: { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '400000' } });
    const [ready] = await notify.waitFor('READY', (d) => d.message.startsWith('READY=1'));
    expect(ready?.message).toBe(`READY=1\nMAINPID=${String(bicorn.pid)}\nSTATUS=serving with 1 worker, generation 1`);
    await bicorn.listening();

    bicorn.signal('SIGHUP');
    await notify.waitFor('READY after the reload', (d) => d.message.startsWith('READY=1'), 2);
    const watchdogs = await notify.waitFor('ten watchdog pings', isWatchdog, 10);
    bicorn.signal('SIGTERM');
    expect((await bicorn.exited).code).toBe(0);
    await notify.waitFor('STOPPING', (d) => d.message.startsWith('STOPPING=1'));

    // Every message comes from the master itself: NotifyAccess=main is enough.
    expect(new Set(notify.received.map((d) => d.pid))).toEqual(new Set([bicorn.pid]));
    const states = notify.received.filter((d) => !isWatchdog(d)).map((d) => d.message.split('\n')[0]);
    expect(states).toEqual(['STATUS=starting 1 worker', 'READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1']);
    const reloading = notify.received.find((d) => d.message.startsWith('RELOADING=1'))?.message ?? '';
    expect(reloading).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading$/);
    expect(notify.received.at(-1)?.message).toBe('STOPPING=1\nSTATUS=stopping');

    // The pings keep to the period, loosely: the machine may be busy.
    const gaps = watchdogs.slice(1).map((d, i) => d.ms - (watchdogs[i]?.ms ?? 0));
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(150);
    expect(median).toBeLessThan(350);
  });

  it('keeps the notify variables from the workers, and sends nothing without NOTIFY_SOCKET', async () => {
    const notify = new NotifySocket();
    sockets.push(notify);
    await notify.bound;
    const bicorn = new BicornProcess(['-b', '127.0.0.1:0', APP], { env: { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '1000000' } });
    await bicorn.listening();
    const environ = readFileSync(`/proc/${String(bicorn.workerPid())}/environ`, 'utf8').split('\0');
    expect(environ.filter((v) => /^(NOTIFY_SOCKET|WATCHDOG_)/.test(v))).toEqual([]);
    expect((await bicorn.stop()).code).toBe(0);

    // An empty NOTIFY_SOCKET is none, as for sd_notify(3); the watchdog variable alone asks nothing.
    const quiet = new BicornProcess(['-b', '127.0.0.1:0', '--log-level', 'debug', APP], { env: { NOTIFY_SOCKET: '', WATCHDOG_USEC: '1000000' } });
    await quiet.listening();
    expect((await quiet.stop()).code).toBe(0);
    expect(quiet.lines.filter((l) => l.msg === 'notifying systemd' || (l.level >= 40 && !isRootWarning(l)))).toEqual([]);
    expect(notify.received.every((d) => d.pid === bicorn.pid)).toBe(true);
  });
});

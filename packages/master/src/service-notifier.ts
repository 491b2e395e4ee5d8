// What bicorn tells systemd: READY=1 once the first generation serves, RELOADING=1 (with
// MONOTONIC_USEC, for Type=notify-reload) and READY=1 around each reload, STOPPING=1, STATUS=
// lines, and WATCHDOG=1 at half of WATCHDOG_USEC from a timer on the master's event loop, so a
// blocked loop stops the pings and systemd's watchdog acts. Runs in the master.
import type { Logger } from '@bicorn/runtime';
import type { ArbiterEvent } from './arbiter.js';
import { openNotifySocket, takeNotifyEnv, type NotifySocket } from './sd-notify.js';

export interface ServiceNotifier {
  onEvent(event: ArbiterEvent): void;
  close(): void;
}

/** Reads (and clears) NOTIFY_SOCKET and the watchdog variables; a no-op notifier without them. */
export async function startServiceNotifier(log: Logger, workers: number): Promise<ServiceNotifier> {
  const env = takeNotifyEnv();
  const socket = env.socket === undefined ? undefined : await openNotifySocket(env.socket, log);
  if (socket === undefined) return { onEvent: () => undefined, close: () => undefined };
  log.debug({ notifySocket: env.socket, watchdogMs: env.watchdogMs }, 'notifying systemd');
  return new SystemdNotifier(socket, env.watchdogMs, workers);
}

class SystemdNotifier implements ServiceNotifier {
  readonly #socket: NotifySocket;
  readonly #watchdog: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(socket: NotifySocket, watchdogMs: number | undefined, workers: number) {
    this.#socket = socket;
    socket.send(`STATUS=starting ${plural(workers, 'worker')}`);
    if (watchdogMs !== undefined) {
      socket.send('WATCHDOG=1');
      // Not unref'd: it lives exactly as long as the master, which closes it when done.
      this.#watchdog = setInterval(() => {
        socket.send('WATCHDOG=1');
      }, watchdogMs);
    }
  }

  onEvent(event: ArbiterEvent): void {
    const message = notifyMessage(event, process.pid, monotonicUsec());
    if (!this.#closed && message !== undefined) this.#socket.send(message);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    this.#socket.close();
  }
}

/** The datagram for an arbiter event, if systemd cares for it. */
export function notifyMessage(event: ArbiterEvent, pid: number, nowUsec: bigint): string | undefined {
  switch (event.type) {
    case 'ready':
      // MAINPID: for when bicorn was started through a wrapper (npx, a shell that forks) whose
      // PID systemd took as the main one, which then also needs NotifyAccess=all; a no-op when
      // bicorn is the main process, as under the units of `bicorn systemd`.
      return `READY=1\nMAINPID=${String(pid)}\nSTATUS=serving with ${plural(event.workers, 'worker')}, generation 1`;
    case 'reloading':
      return `RELOADING=1\nMONOTONIC_USEC=${nowUsec.toString()}\nSTATUS=reloading`;
    case 'reloaded':
      // READY=1 either way: systemd waits for it to end the reload, failed or not.
      return event.ok
        ? `READY=1\nSTATUS=serving with ${plural(event.workers, 'worker')}, generation ${String(event.generation)}`
        : `READY=1\nSTATUS=reload failed (see the log); still serving with ${plural(event.workers, 'worker')}, generation ${String(event.generation)}`;
    case 'stopping':
      return 'STOPPING=1\nSTATUS=stopping';
    case 'worker-ready':
    case 'worker-exited':
    case 'restart':
    case 'app-died':
      return undefined;
  }
}

/** CLOCK_MONOTONIC in microseconds: node's hrtime reads that clock on Linux, as systemd does. */
function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}

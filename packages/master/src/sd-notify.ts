// The sd_notify(3) datagram, sent from the master's own process (runtime's unix-datagram.ts,
// through koffi, loaded only when NOTIFY_SOCKET is set). Sending from the master itself (not a
// helper process) makes systemd see the main PID as the sender, so the default
// NotifyAccess=main works and no message can race a helper's exit. Runs in the master.
import { openUnixDatagram, type Logger, type UnixDatagramSocket } from '@bicorn/runtime';

export interface NotifyEnv {
  /** NOTIFY_SOCKET: a path, or `@name` for an abstract socket. */
  readonly socket: string | undefined;
  /** Half of WATCHDOG_USEC, when the watchdog is on for this process. */
  readonly watchdogMs: number | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * Reads the notify variables and removes them, so that workers and the app's processes do not
 * try to speak for the service (systemd would refuse them under NotifyAccess=main anyway).
 */
export function takeNotifyEnv(env: Env = process.env, pid = process.pid): NotifyEnv {
  const socket = env.NOTIFY_SOCKET === undefined || env.NOTIFY_SOCKET === '' ? undefined : env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC ?? '');
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  // systemd checks at the period it was given; pinging at half of it leaves a whole half for a late tick.
  const watchdogMs = socket !== undefined && forUs && Number.isFinite(usec) && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : undefined;
  return { socket, watchdogMs };
}

export interface NotifySocket {
  /** Sends one message (`KEY=VALUE` lines); never throws, never blocks. */
  send(message: string): void;
  close(): void;
}

/** Opens the datagram socket; undefined (with the reason logged) when it cannot. */
export async function openNotifySocket(socket: string, log: Logger): Promise<NotifySocket | undefined> {
  if (process.platform !== 'linux' || !(socket.startsWith('/') || socket.startsWith('@'))) {
    log.error({ notifySocket: socket }, 'NOTIFY_SOCKET is not a unix socket bicorn can reach; systemd will not hear that bicorn is ready');
    return undefined;
  }
  let datagrams: UnixDatagramSocket;
  try {
    datagrams = await openUnixDatagram(socket);
  } catch (error) {
    log.error({ err: error }, 'cannot open a socket to talk to systemd (is koffi installed for this platform?); systemd will not hear that bicorn is ready');
    return undefined;
  }
  return {
    send: (message) => {
      const sent = datagrams.send(Buffer.from(message));
      if (!sent.ok) log.warn({ errno: sent.errno, message: message.split('\n')[0] }, 'sd_notify message not delivered');
    },
    close: () => {
      datagrams.close();
    },
  };
}

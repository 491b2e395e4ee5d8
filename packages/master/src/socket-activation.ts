// systemd socket activation (sd_listen_fds(3)): the descriptors systemd passed, from fd 3 on,
// with their FileDescriptorName= names. Runs in the master, once, before anything is bound.
export interface ActivatedSocket {
  readonly fd: number;
  readonly name: string;
}

/** The first descriptor systemd passes (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

type Env = Record<string, string | undefined>;

/**
 * The sockets passed to this process: none when LISTEN_PID names another one (they were meant
 * for a parent that exec'd us without clearing the variables) or the variables are malformed.
 */
export function activatedSockets(env: Readonly<Env>, pid: number): readonly ActivatedSocket[] {
  const count = Number(env.LISTEN_FDS ?? '');
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return [];
  if (!Number.isSafeInteger(count) || count <= 0) return [];
  const names = env.LISTEN_FDNAMES?.split(':') ?? [];
  return Array.from({ length: count }, (_, i) => ({ fd: FIRST_FD + i, name: names[i] ?? 'unknown' }));
}

/**
 * Reads the sockets passed to this process and removes the variables, so that workers and the
 * app's processes, which inherit the environment, never take them as theirs.
 */
export function takeActivatedSockets(env: Env = process.env, pid = process.pid): readonly ActivatedSocket[] {
  const sockets = activatedSockets(env, pid);
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  return sockets;
}

// --initgroups: a worker the master forked as root (node's fork can set a uid and gid, but
// clears the supplementary groups) takes the user's groups and drops to the user itself, before
// it does anything else. Runs in the worker, first.

/** process.initgroups: in node since 0.9.4 (POSIX), missing from @types/node 20. */
type InitGroups = (user: string | number, extraGroup: string | number) => void;

/** `--initgroups=UID:GID` among the worker's arguments: drop to them, with the user's groups. */
export function dropToUser(args: readonly string[]): void {
  const match = args.map((arg) => /^--initgroups=(\d+):(\d+)$/.exec(arg)).find((m) => m !== null);
  if (match === undefined) return;
  const uid = Number(match[1]);
  const gid = Number(match[2]);
  // The order matters: groups and gid can only be changed while still root.
  (process as { initgroups?: InitGroups }).initgroups?.(uid, gid);
  process.setgid?.(gid);
  process.setuid?.(uid);
}

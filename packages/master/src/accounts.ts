// Users and groups by name or id, for --user, --group and --socket-owner: read through getent
// (so NSS sources such as LDAP count), else from /etc/passwd and /etc/group. Runs in the master.
import { BicornError } from '@bicorn/protocol';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Identity {
  readonly uid: number;
  readonly gid: number;
  /** The user's name and home, when the passwd database knows the user. */
  readonly name: string | undefined;
  readonly home: string | undefined;
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface AccountDatabase {
  user(nameOrId: string): PasswdEntry | undefined;
  group(nameOrId: string): number | undefined;
}

type Setting = 'user' | 'group' | 'socket_owner';

/** The ids to run as; undefined when neither user nor group is set. */
export function resolveIdentity(user: string | null, group: string | null, db: AccountDatabase = systemAccounts, setting: { user: Setting; group: Setting } = { user: 'user', group: 'group' }): Identity | undefined {
  if (user === null && group === null) return undefined;
  const entry = user === null ? undefined : db.user(user);
  if (user !== null && entry === undefined && !isId(user)) throw new BicornError('USER_UNKNOWN', { setting: setting.user, kind: 'user', name: user });
  const uid = entry?.uid ?? (user === null ? currentUid() : Number(user));
  let gid: number;
  if (group !== null) {
    const found = db.group(group) ?? (isId(group) ? Number(group) : undefined);
    if (found === undefined) throw new BicornError('USER_UNKNOWN', { setting: setting.group, kind: 'group', name: group });
    gid = found;
  } else if (entry !== undefined) {
    gid = entry.gid;
  } else if (user === null) {
    gid = currentGid();
  } else {
    throw new BicornError('USER_UNKNOWN', { setting: setting.group, kind: 'primary group of user', name: user });
  }
  return { uid, gid, name: entry?.name, home: entry?.home };
}

/** socket_owner's `user[:group]` or `:group`. */
export function resolveOwner(owner: string, db: AccountDatabase = systemAccounts): Identity {
  const [user = '', group] = owner.split(':');
  const identity = resolveIdentity(user === '' ? null : user, group ?? null, db, { user: 'socket_owner', group: 'socket_owner' });
  // Both parts empty cannot pass config validation.
  if (identity === undefined) throw new BicornError('USER_UNKNOWN', { setting: 'socket_owner', kind: 'user', name: owner });
  return identity;
}

export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const [name, , uid, gid, , home] = line.split(':');
  if (name === undefined || uid === undefined || gid === undefined || !isId(uid) || !isId(gid)) return undefined;
  return { name, uid: Number(uid), gid: Number(gid), home: home ?? '/' };
}

export function parseGroupLine(line: string): { name: string; gid: number } | undefined {
  const [name, , gid] = line.split(':');
  return name === undefined || gid === undefined || !isId(gid) ? undefined : { name, gid: Number(gid) };
}

const isId = (text: string): boolean => /^\d+$/.test(text);
export const currentUid = (): number => process.getuid?.() ?? 0;
export const currentGid = (): number => process.getgid?.() ?? 0;

/** One record from getent, or from the file when getent is not installed. */
function lookup(database: 'passwd' | 'group', key: string): string | undefined {
  const getent = spawnSync('getent', [database, key], { encoding: 'utf8' });
  if (getent.error === undefined) return getent.status === 0 ? getent.stdout.split('\n')[0] : undefined;
  const lines = readFileSync(`/etc/${database}`, 'utf8').split('\n');
  const field = isId(key) ? 2 : 0;
  return lines.find((line) => line.split(':')[field] === key);
}

const systemAccounts: AccountDatabase = {
  user: (nameOrId) => {
    const line = lookup('passwd', nameOrId);
    return line === undefined ? undefined : parsePasswdLine(line);
  },
  group: (nameOrId) => {
    const line = lookup('group', nameOrId);
    return line === undefined ? undefined : parseGroupLine(line)?.gid;
  },
};

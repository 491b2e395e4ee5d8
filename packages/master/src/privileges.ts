// Who the workers run as (--user, --group): the master stays as it started (root, to bind
// privileged ports and keep the sockets), forks the workers under the dropped ids, and hands
// them the files they write. Runs in the master, before any worker starts.
import type { Config } from '@bicorn/config';
import { BicornError } from '@bicorn/protocol';
import type { Logger } from '@bicorn/runtime';
import { chownSync } from 'node:fs';
import { dirname } from 'node:path';
import { currentGid, currentUid, resolveIdentity, type Identity } from './accounts.js';

/**
 * The ids to fork workers with; undefined when they run as the master does. Throws when the
 * ids asked for need a root master and this one is not.
 */
export function workerIdentity(config: Pick<Config, 'user' | 'group' | 'initgroups'>, log: Logger): Identity | undefined {
  const identity = resolveIdentity(config.user, config.group);
  const uid = currentUid();
  const gid = currentGid();
  if (identity === undefined) {
    if (uid === 0) {
      log.warn({ hint: 'pass --user (and --group) to run the workers unprivileged' }, 'running as root without --user: the app runs as root, so a flaw in it hands over the whole machine');
    }
    return undefined;
  }
  if (uid !== 0) {
    // Already the user asked for (a unit with User=): nothing to switch.
    if (identity.uid === uid && identity.gid === gid) return undefined;
    const setting = identity.uid === uid ? 'group' : 'user';
    throw new BicornError('PRIVILEGES_NEEDED', { setting, name: (setting === 'user' ? config.user : config.group) ?? '', uid });
  }
  // The groups of a user come from its name in the group database.
  if (config.initgroups && identity.name === undefined) throw new BicornError('USER_UNKNOWN', { setting: 'initgroups', kind: 'user named', name: String(identity.uid) });
  log.info({ uid: identity.uid, gid: identity.gid, user: identity.name, initgroups: config.initgroups }, 'workers will run as this user');
  return identity;
}

/**
 * Makes the log files the workers append to theirs: the master created them as root, and a
 * worker opens them again by path (at start, and on SIGUSR1 after logrotate). Directories the
 * master created for one (from `createdDir` down) go with it, so that a umask such as 027
 * cannot lock the workers out of them.
 */
export function handOverLogFiles(paths: readonly (string | null)[], identity: Identity | undefined, createdDirs: readonly { file: string; createdDir: string | undefined }[] = []): void {
  if (identity === undefined) return;
  const owned = [...paths];
  for (const { file, createdDir } of createdDirs) {
    if (createdDir === undefined) continue;
    for (let dir = dirname(file); dir.startsWith(createdDir); dir = dirname(dir)) owned.push(dir);
  }
  for (const path of owned) {
    if (path === null || path === '-') continue;
    try {
      chownSync(path, identity.uid, identity.gid);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new BicornError('LOG_OPEN_FAILED', { setting: 'user', path, reason: `cannot give it to uid ${String(identity.uid)} (${reason})` });
    }
  }
}

/** What a worker's environment says about its user, as login would set it. */
export function identityEnv(identity: Identity | undefined): Record<string, string> {
  if (identity?.name === undefined) return {};
  return { USER: identity.name, LOGNAME: identity.name, ...(identity.home === undefined ? {} : { HOME: identity.home }) };
}

import { describe, expect, it } from 'vitest';
import { parseGroupLine, parsePasswdLine, resolveIdentity, resolveOwner, type AccountDatabase } from './accounts.js';

const db: AccountDatabase = {
  user: (key) => [parsePasswdLine('www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin')].find((e) => e?.name === key || String(e?.uid) === key),
  group: (key) => [parseGroupLine('www-data:x:33:'), parseGroupLine('web:x:900:alice')].find((g) => g?.name === key || String(g?.gid) === key)?.gid,
};

describe('users and groups', () => {
  it('takes the primary group of the user when no group is given', () => {
    expect(resolveIdentity('www-data', null, db)).toEqual({ uid: 33, gid: 33, name: 'www-data', home: '/var/www' });
    expect(resolveIdentity('33', 'web', db)).toEqual({ uid: 33, gid: 900, name: 'www-data', home: '/var/www' });
  });

  it('accepts numeric ids the database does not know, with a group', () => {
    expect(resolveIdentity('1234', '1234', db)).toEqual({ uid: 1234, gid: 1234, name: undefined, home: undefined });
    expect(() => resolveIdentity('1234', null, db)).toThrow(/group: this machine has no primary group of user 1234/);
  });

  it('names the setting and the missing user or group', () => {
    expect(() => resolveIdentity('nosuch', null, db)).toThrow(/^user: this machine has no user nosuch; create it/);
    expect(() => resolveIdentity('www-data', 'nosuch', db)).toThrow(/^group: this machine has no group nosuch/);
    expect(() => resolveOwner('nosuch:web', db)).toThrow(/^socket_owner: this machine has no user nosuch/);
  });

  it('reads socket_owner as user, user:group or :group', () => {
    expect(resolveOwner('www-data', db)).toMatchObject({ uid: 33, gid: 33 });
    expect(resolveOwner('www-data:web', db)).toMatchObject({ uid: 33, gid: 900 });
    expect(resolveOwner(':web', db)).toMatchObject({ uid: process.getuid?.(), gid: 900 });
  });
});

// Users and groups through the addon's NSS lookups (accounts.c), held to getent(1), which asks NSS the same way.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { groupEntry, userEntry } from '../../src/kernel/identity.js';

const getent = (database: string, key: string): string[] => execFileSync('getent', [database, key], { encoding: 'utf8' }).trim().split(':');

test('a user by name and by uid is what getent passwd says', () => {
  for (const key of ['root', 'nobody', '65534', '0']) {
    const [name, , uid, gid, , home] = getent('passwd', key);
    const expected = { name, uid: Number(uid), gid: Number(gid), home };
    assert.deepEqual(userEntry(/^\d+$/.test(key) ? Number(key) : key), expected, key);
  }
});

test('a group by name and by gid is what getent group says', () => {
  for (const key of ['root', 'daemon', '1']) {
    const [name, , gid] = getent('group', key);
    assert.deepEqual(groupEntry(/^\d+$/.test(key) ? Number(key) : key), { name, gid: Number(gid) }, key);
  }
});

test('no such user or group is null, not an error; an id out of range is a TypeError', () => {
  assert.equal(userEntry('no-such-user-angel'), null);
  assert.equal(userEntry(4_294_967_294), null);
  assert.equal(groupEntry('no-such-group-angel'), null);
  assert.equal(userEntry('x'.repeat(10_000)), null);
  assert.throws(() => userEntry(2 ** 32), TypeError);
  assert.throws(() => groupEntry(-1), TypeError);
});

// Resolves --user/--group in angel (names, or numeric ids) into the uid, gid and supplementary groups the
// child gets, the way initgroups(3) + setgid + setuid would.
import { UsageError } from '../core/errors.js';
import * as syscalls from './syscalls.js';

export interface ChildIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

/** The supplementary groups of a user, as initgroups(3) would set them. */
export function supplementaryGroups(user: string, gid: number): number[] {
  return syscalls.getgrouplist(user, gid);
}

/** What messages call the two values: their flags, or the config file's keys. */
export interface IdentityNames {
  user: string;
  group: string;
}

/** A user's passwd entry (name or uid, through NSS), or null when there is none. */
export function userEntry(user: string | number): { name: string; uid: number; gid: number; home: string } | null {
  const entry = syscalls.lookupUser(user);
  return entry && { name: entry[0], uid: entry[1], gid: entry[2], home: entry[3] };
}

/** A group's entry (name or gid, through NSS), or null when there is none. */
export function groupEntry(group: string | number): { name: string; gid: number } | null {
  const entry = syscalls.lookupGroup(group);
  return entry && { name: entry[0], gid: entry[1] };
}

function lookupUser(user: string | number, names: IdentityNames): { name: string; uid: number; gid: number } {
  const entry = userEntry(user);
  if (!entry) throw new UsageError(names.user, user, 'expected a user that exists');
  return entry;
}

function lookupGroup(group: string | number, names: IdentityNames): number {
  const entry = groupEntry(group);
  if (!entry) throw new UsageError(names.group, group, 'expected a group that exists');
  return entry.gid;
}

/** null when neither is asked: the child keeps angel's identity. */
export function resolveIdentity(user: string | number | null, group: string | number | null, names: IdentityNames = { user: '--user', group: '--group' }): ChildIdentity | null {
  if (user === null && group === null) return null;
  if (process.geteuid?.() !== 0) {
    throw new UsageError(user !== null ? names.user : names.group, user ?? group, 'angel must run as root to change the child\'s identity');
  }
  if (user === null) {
    const gid = lookupGroup(group as string | number, names);
    return { uid: process.getuid?.() ?? 0, gid, groups: [gid] };
  }
  const entry = lookupUser(user, names);
  const gid = group === null ? entry.gid : lookupGroup(group, names);
  const groups = supplementaryGroups(entry.name, gid);
  return { uid: entry.uid, gid, groups };
}

/** Makes this whole process that user, for good (setgroups, setgid, setuid: glibc changes every thread):
 * a command that needs no privilege of root's (`angel status`) does nothing with it for another user. */
export function becomeUser(user: { uid: number; gid: number; groups: readonly number[] }): void {
  process.setgroups?.([...user.groups]);
  process.setgid?.(user.gid);
  process.setuid?.(user.uid);
}

/** The home and name of the account the child runs as (root when it keeps angel's identity). */
export function accountOf(uid: number): { home: string; name: string } {
  const entry = userEntry(uid);
  return entry ? { home: entry.home || '/', name: entry.name } : { home: '/', name: String(uid) };
}

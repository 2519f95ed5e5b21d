// Resolves --user/--group in angel (names, or numeric ids) into the uid, gid and supplementary groups the
// child gets, the way initgroups(3) + setgid + setuid would.
import { createRequire } from 'node:module';
import type Posix from 'posix';
import { UsageError } from '../core/errors.js';
import { supplementaryGroups } from './spawn.js';

export interface ChildIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

/** What messages call the two values: their flags, or the config file's keys. */
export interface IdentityNames {
  user: string;
  group: string;
}

function lookupUser(posix: typeof Posix, user: string | number, names: IdentityNames): { name: string; uid: number; gid: number } {
  try {
    const entry = posix.getpwnam(user);
    return { name: entry.name ?? String(user), uid: entry.uid, gid: entry.gid };
  } catch {
    throw new UsageError(names.user, user, 'expected a user that exists');
  }
}

function lookupGroup(posix: typeof Posix, group: string | number, names: IdentityNames): number {
  try {
    return posix.getgrnam(group).gid;
  } catch {
    throw new UsageError(names.group, group, 'expected a group that exists');
  }
}

/** null when neither is asked: the child keeps angel's identity. */
export function resolveIdentity(user: string | number | null, group: string | number | null, names: IdentityNames = { user: '--user', group: '--group' }): ChildIdentity | null {
  if (user === null && group === null) return null;
  if (process.geteuid?.() !== 0) {
    throw new UsageError(user !== null ? names.user : names.group, user ?? group, 'angel must run as root to change the child\'s identity');
  }
  // loaded only when asked for: most runs keep angel's identity and need not pay for it at start-up
  const posix = createRequire(import.meta.url)('posix') as typeof Posix;
  if (user === null) {
    const gid = lookupGroup(posix, group as string | number, names);
    return { uid: process.getuid?.() ?? 0, gid, groups: [gid] };
  }
  const entry = lookupUser(posix, user, names);
  const gid = group === null ? entry.gid : lookupGroup(posix, group, names);
  const groups = supplementaryGroups(entry.name, gid);
  return { uid: entry.uid, gid, groups };
}

/** The home and name of the account the child runs as (root when it keeps angel's identity). */
export function accountOf(uid: number): { home: string; name: string } {
  try {
    const entry = (createRequire(import.meta.url)('posix') as typeof Posix).getpwnam(uid);
    return { home: entry.dir ?? '/', name: entry.name ?? String(uid) };
  } catch {
    return { home: '/', name: String(uid) };
  }
}

// The root rule, from lighttpd's angel: when angel runs as root on behalf of someone else (a setuid
// install, or sudo, where SUDO_UID says who), that someone must be root or in the group that owns the
// program binary. Running a program as root is then a right the binary's owner granted, not one angel
// hands to anyone who can start it.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type Posix from 'posix';
import { PermissionError } from './errors.js';
import { supplementaryGroups } from './spawn.js';

/** Who started angel, when angel is root for someone else; null when root started it (or it is not root). */
export function startingUser(env: Readonly<Record<string, string | undefined>> = process.env): number | null {
  if (process.geteuid?.() !== 0) return null;
  const real = process.getuid?.() ?? 0;
  if (real !== 0) return real;
  const sudo = env.SUDO_UID;
  if (sudo && /^\d+$/.test(sudo) && Number(sudo) !== 0) return Number(sudo);
  return null;
}

/** Throws a PermissionError naming the user, the group and the binary when the rule is broken. The program
 * is resolved only when the rule applies, so an ordinary run reports a missing program as its spawn does. */
export function checkRootRule(resolveProgram: () => string, env: Readonly<Record<string, string | undefined>> = process.env): void {
  const uid = startingUser(env);
  if (uid === null) return;
  const programPath = resolveProgram();
  const posix = createRequire(import.meta.url)('posix') as typeof Posix;
  const binaryGid = statSync(programPath).gid;
  let name = String(uid);
  let groups: number[] = [];
  try {
    const entry = posix.getpwnam(uid);
    name = entry.name ?? name;
    groups = supplementaryGroups(name, entry.gid);
  } catch {
    // a uid without a passwd entry is in no group at all
  }
  if (groups.includes(binaryGid)) return;
  let groupName = String(binaryGid);
  try {
    groupName = posix.getgrnam(binaryGid).name ?? groupName;
  } catch {}
  throw new PermissionError(
    `user ${name} (uid ${uid}) may not run ${programPath} through angel as root: not in its group ${groupName} (gid ${binaryGid})`,
  );
}

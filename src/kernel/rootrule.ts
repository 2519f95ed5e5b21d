// The root rule, from lighttpd's angel: when angel runs as root on behalf of someone else (a setuid
// install, or sudo, where SUDO_UID says who), that someone must be root or in the group that owns the
// program binary. Running a program as root is then a right the binary's owner granted, not one angel
// hands to anyone who can start it. The grant only means something when no one but root could have set
// that group or could change the file since: the binary must be root's and writable by no one else (a
// user's own copy of /bin/sh, in their own group, would pass a check of the group alone).
import { PermissionError } from '../core/errors.js';
import { groupEntry, supplementaryGroups, userEntry } from './identity.js';
import type { ProgramFile } from './program.js';
import { checkInterpreter, firstLine } from './rootpath.js';
import { UnsafePath } from './safeopen.js';

/** The user angel acts for while root: who gives every path, variable and value, and must not gain by it. */
export interface StartingUser {
  uid: number;
  /** Their primary group: with `groups`, the filesystem rights angel uses their paths with. */
  gid: number;
  name: string;
  groups: number[];
}

const MAX_UID = 2 ** 32 - 2; // (uid_t)-1 means "no change" to setresuid(2), never a user

/** Who started angel, when angel is root for someone else; null when root started it (or it is not root).
 * A SUDO_UID that is not a plain decimal uid is refused: read leniently, `1001 ` or `+1001` would have
 * skipped the rule. */
export function startingUser(env: Readonly<Record<string, string | undefined>> = process.env): StartingUser | null {
  if (process.geteuid?.() !== 0) return null;
  const real = process.getuid?.() ?? 0;
  let uid = real;
  if (real === 0) {
    const sudo = env.SUDO_UID;
    if (sudo === undefined) return null;
    if (!/^(0|[1-9]\d{0,9})$/.test(sudo) || Number(sudo) > MAX_UID) {
      throw new PermissionError(`SUDO_UID: expected a decimal uid, got ${JSON.stringify(sudo.slice(0, 40))}; refusing to run as root for an unknown user`);
    }
    uid = Number(sudo);
    if (uid === 0) return null;
  }
  const entry = userEntry(uid);
  // a uid without a passwd entry is in no group at all
  // one without a passwd entry gets the nobody group's rights (65534): no group of root's
  return entry ? { uid, gid: entry.gid, name: entry.name, groups: supplementaryGroups(entry.name, entry.gid) } : { uid, gid: 65534, name: String(uid), groups: [] };
}

/** Throws a PermissionError naming the user, the group and the binary when the rule is broken. The
 * program was opened once (ProgramFile): this checks the file that will be executed. A script's interpreter
 * (and its own, to the kernel's depth) must be root's alone too (rootpath.ts): the kernel runs it by the name
 * on the `#!` line, and a user's interpreter there would run as root. */
export function checkRootRule(program: ProgramFile, user: StartingUser): void {
  const { stat, path } = program;
  const refuse = (why: string): never => {
    throw new PermissionError(`user ${user.name} (uid ${user.uid}) may not run ${path} through angel as root: ${why}`);
  };
  if (stat.uid !== 0) refuse(`it is owned by uid ${stat.uid}, not root`);
  if ((stat.mode & 0o022) !== 0) refuse(`it is writable by group or others (mode ${(stat.mode & 0o7777).toString(8)})`);
  if (!user.groups.includes(stat.gid)) refuse(`not in its group ${groupEntry(stat.gid)?.name ?? String(stat.gid)} (gid ${stat.gid})`);
  if (!program.script) return;
  try {
    checkInterpreter(firstLine(program.fd), path);
  } catch (error) {
    if (!(error instanceof UnsafePath)) throw error;
    refuse(error.message);
  }
}

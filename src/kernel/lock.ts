// A locked build (ANGEL_LOCK_PROGRAM=/path npm run build:native) may start one program only. angel opens it
// itself, verifies the open file (a regular file, root's when angel is root, writable by no group or other
// user) and executes that same file with execveat: a binary swapped in after the check is never what runs.
// The program asked for is the locked one when it is the same file (device and inode), however it is spelled:
// `sleep` found in PATH, /bin/sleep through the /bin -> usr/bin link, or /usr/bin/sleep.
import { closeSync, constants } from 'node:fs';
import { PermissionError } from '../core/errors.js';
import * as syscalls from './syscalls.js';
import { openExecutable, openProgram, type ProgramFile } from './program.js';
import { rootOnlyPath } from './rootpath.js';
import { UnsafePath } from './safeopen.js';

/** The one program of a locked build, or null (loads the addon). */
export const lockedProgram = syscalls.lockedProgram;

function openVerified(path: string): ProgramFile {
  // as root, the path is walked: a directory on the way that someone else owns could be swapped for a link
  let walked = path;
  if (process.geteuid?.() === 0) {
    try {
      walked = rootOnlyPath(path, false);
    } catch (error) {
      if (!(error instanceof UnsafePath)) throw error;
      throw new PermissionError(`refusing locked program ${path}: ${error.message}`);
    }
  }
  // O_NOFOLLOW: the lock names the file itself, not whatever a link points to at the moment
  const locked = openExecutable(walked, constants.O_NOFOLLOW);
  const { stat } = locked;
  const refuse = (why: string): never => {
    closeSync(locked.fd);
    throw new PermissionError(`refusing locked program ${path}: ${why}`);
  };
  if (process.geteuid?.() === 0 && stat.uid !== 0) refuse(`owned by uid ${stat.uid}, not root`);
  if ((stat.mode & 0o022) !== 0) refuse(`writable by group or others (mode ${(stat.mode & 0o7777).toString(8)})`);
  return locked;
}

/** null in an unlocked build; otherwise the verified locked binary, when `program` (resolved in the child's
 * PATH) is that same file, or a PermissionError naming what is wrong. */
export function openLockedProgram(program: string, pathList: string | undefined, cwd: string | undefined): ProgramFile | null {
  const lockPath = lockedProgram();
  if (lockPath === null) return null;
  const locked = openVerified(lockPath);
  let same = false;
  try {
    const requested = openProgram(program, pathList, cwd);
    same = requested.stat.dev === locked.stat.dev && requested.stat.ino === locked.stat.ino;
    closeSync(requested.fd);
  } catch {
    // not found or not runnable: it is not the locked program either
  }
  if (!same) {
    closeSync(locked.fd);
    throw new PermissionError(`this angel is locked to ${lockPath}; refusing ${program}`);
  }
  return locked;
}

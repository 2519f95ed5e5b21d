// A locked build (ANGEL_LOCK_PROGRAM=/path npm run build:native) may start one program only. angel resolves
// it once, opens it itself, verifies the open file (a regular file, root's when angel is root, writable by no
// group or other user) and executes that same file with execveat: a binary swapped in after the check is
// never what runs.
import { constants, fstatSync, openSync } from 'node:fs';
import { PermissionError, SpawnError } from './errors.js';
import { native } from './native.js';
import { resolveProgram } from './spawn.js';

export const lockedProgram: string | null = native.lockedProgram;

export interface LockedBinary {
  readonly path: string;
  /** The verified open file, executed for every generation. */
  readonly fd: number;
}

/** null in an unlocked build; otherwise the verified binary, or a PermissionError naming what is wrong. */
export function openLockedProgram(program: string, pathList: string | undefined, cwd: string | undefined): LockedBinary | null {
  if (lockedProgram === null) return null;
  let resolved: string;
  try {
    resolved = resolveProgram(program, pathList, cwd);
  } catch {
    resolved = program;
  }
  if (resolved !== lockedProgram) throw new PermissionError(`this angel is locked to ${lockedProgram}; refusing ${program}`);
  let fd: number;
  try {
    // O_NOFOLLOW: the lock names the file itself, not whatever a link points to at the moment
    fd = openSync(lockedProgram, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new SpawnError(lockedProgram, 'open', code, (error as NodeJS.ErrnoException).errno);
  }
  const stat = fstatSync(fd);
  const refuse = (why: string): never => {
    throw new PermissionError(`refusing locked program ${lockedProgram}: ${why}`);
  };
  if (!stat.isFile()) refuse('not a regular file');
  if (process.geteuid?.() === 0 && stat.uid !== 0) refuse(`owned by uid ${stat.uid}, not root`);
  if ((stat.mode & 0o022) !== 0) refuse(`writable by group or others (mode ${(stat.mode & 0o7777).toString(8)})`);
  return { path: lockedProgram, fd };
}

// Paths root executes on the strength of a check: a locked build's program, and the interpreter a granted
// script names on its `#!` line (the kernel finds it by that name at every exec, long after the check). Such a
// path can be trusted only if nothing on it can change but by root's hand: every directory on the way root's
// and writable by no one else (a root-owned sticky directory such as /tmp may lie on the way, where no one can
// rename or remove an entry of root's, but not hold the file itself), every symlink on the way root's, each
// followed and its target checked the same way. Such a path, checked by name, stays what it was checked to be.
import { closeSync, constants, fstatSync, lstatSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { errorCode } from '../core/errnos.js';
import { parseShebang } from '../core/shebang.js';
import { AT_FDCWD, UnsafePath } from './safeopen.js';
import { openAt } from './syscalls.js';

const S_ISVTX = 0o1000;
/** The kernel's own bound on the symlinks one lookup follows (MAXSYMLINKS). */
const MAX_LINKS = 40;
/** How deep an interpreter's interpreter may go: the kernel's own bound on #! chains (binfmt_script). */
export const MAX_INTERPRETER_DEPTH = 4;

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

function lstatOf(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (error) {
    throw new UnsafePath(`${path}: ${errorCode(error)}`, errorCode(error));
  }
}

/** Why a directory on the way is not root's alone, or null. `holdsFile`: the one the file itself is in. */
function unsafeDirectory(stat: Stats, path: string, holdsFile: boolean): string | null {
  if (!stat.isDirectory()) return `${path} is not a directory (ENOTDIR)`;
  if (stat.uid !== 0) return `${path} is owned by uid ${stat.uid}, mode ${octal(stat.mode)}`;
  const sticky = (stat.mode & S_ISVTX) !== 0;
  if ((stat.mode & 0o022) !== 0 && (holdsFile || !sticky)) return `${path} is writable by others, mode ${octal(stat.mode)}`;
  return null;
}

/**
 * The path with every symlink followed (the last one only with `followLast`), once every directory and symlink
 * on the way was found to be root's alone (see above); throws UnsafePath naming the first that is not.
 */
export function rootOnlyPath(path: string, followLast: boolean): string {
  const pending = resolve(path).split('/').filter((part) => part !== '');
  let directory = '/';
  let links = 0;
  const problem = unsafeDirectory(lstatOf('/'), '/', false);
  if (problem) throw new UnsafePath(problem);
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '.') continue;
    if (name === '..') {
      directory = resolve(directory, '..');
      continue;
    }
    const candidate = join(directory, name);
    const stat = lstatOf(candidate);
    const last = pending.length === 0;
    if (stat.isSymbolicLink() && (!last || followLast)) {
      if (stat.uid !== 0) throw new UnsafePath(`${candidate} is a symlink owned by uid ${stat.uid}`);
      if (++links > MAX_LINKS) throw new UnsafePath(`${path}: too many symlinks (ELOOP)`, 'ELOOP');
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) directory = '/';
      pending.unshift(...target.split('/').filter((part) => part !== ''));
      continue;
    }
    if (last) {
      const holder = unsafeDirectory(lstatOf(directory), directory, true);
      if (holder) throw new UnsafePath(holder);
      return candidate;
    }
    const unsafe = unsafeDirectory(stat, candidate, false);
    if (unsafe) throw new UnsafePath(unsafe);
    directory = candidate;
  }
  throw new UnsafePath(`${path} names a directory, not a file`);
}

/** Opens a root-only path's file without following a symlink at its end or blocking on a FIFO. */
function openChecked(path: string): { fd: number; stat: Stats } {
  let fd: number;
  try {
    fd = openAt(AT_FDCWD, path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW, 0);
  } catch (error) {
    throw new UnsafePath(`open ${path}: ${errorCode(error)}`, errorCode(error));
  }
  return { fd, stat: fstatSync(fd) };
}

/** The first bytes of a file, as the kernel reads them for a `#!` line (BINPRM_BUF_SIZE). */
export function firstLine(fd: number): Buffer {
  const buffer = Buffer.alloc(256);
  return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0));
}

/**
 * Checks the interpreter a `#!` line names (and the interpreter's own, to the kernel's depth) as root's rule
 * for a program the user does not own: an absolute path that is root's alone (rootOnlyPath), to a regular file
 * of root's that no group or other user can write. Throws UnsafePath naming what is wrong.
 */
export function checkInterpreter(head: Buffer, script: string, depth = 1): void {
  const line = parseShebang(head);
  if (line === null) return;
  if (depth > MAX_INTERPRETER_DEPTH) throw new UnsafePath(`${script}: interpreters nested more than ${MAX_INTERPRETER_DEPTH} deep (ELOOP)`, 'ELOOP');
  if (!line.interpreter.startsWith('/')) throw new UnsafePath(`${script} names a relative interpreter ${JSON.stringify(line.interpreter)}`);
  let walked: string;
  try {
    walked = rootOnlyPath(line.interpreter, true);
  } catch (error) {
    if (!(error instanceof UnsafePath)) throw error;
    throw new UnsafePath(`${script}'s interpreter ${line.interpreter}: ${error.message}`, error.code);
  }
  const { fd, stat } = openChecked(walked);
  try {
    if (!stat.isFile()) throw new UnsafePath(`${script}'s interpreter ${line.interpreter} is not a regular file`);
    if (stat.uid !== 0) throw new UnsafePath(`${script}'s interpreter ${line.interpreter} is owned by uid ${stat.uid}, not root`);
    if ((stat.mode & 0o022) !== 0) throw new UnsafePath(`${script}'s interpreter ${line.interpreter} is writable by group or others, mode ${octal(stat.mode)}`);
    checkInterpreter(firstLine(fd), line.interpreter, depth + 1);
  } finally {
    closeSync(fd);
  }
}

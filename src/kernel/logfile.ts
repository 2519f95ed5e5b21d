// --log-file's file: opened by angel (the child never holds it) with the rules of the user angel acts for,
// checked without being created (`angel check`), and rotated by size: renamed in the directory angel walked
// and checked again, through that directory's fd, and a fresh file opened beside it.
import { accessSync, closeSync, constants, fstatSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { errorCode } from '../core/errnos.js';
import { lstatAt, openAt, renameAt, type FsRights } from './syscalls.js';
import {
  asUsageError, AT_FDCWD, isDirectory, openInRootOnlyDirectory, openRegularFile, openRootOnlyDirectory, refusePseudoFilesystem, UnsafePath,
} from './safeopen.js';

// O_CLOEXEC too: libuv adds it to every open (uv_fs_open), which is why Node has no constant for it
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Opens the log file as angel. Root for another user (`rights`) opens and creates it with that user's
 * filesystem rights, as sudoedit does: a file that user could not write (root's ~/.bashrc) is refused, and one
 * angel creates is theirs. Root for itself walks every directory on the way, each root's and writable by no
 * one else (lighttpd's "unsafe logfiles": a planted symlink, in the path or at the file, would make root append
 * to any file). Never a FIFO or a device (opening one would block angel, and writing to one is not logging),
 * and never a file of the kernel's own filesystems (/proc/sys/kernel/core_pattern). */
export function openLogFile(path: string, name: string, rights: FsRights | null): number {
  const asRoot = process.geteuid?.() === 0;
  try {
    return openLog(path, OPEN_FLAGS, asRoot, rights);
  } catch (error) {
    return asUsageError(error, name, path, expectedOf(asRoot, rights));
  }
}

function openLog(path: string, flags: number, asRoot: boolean, rights: FsRights | null): number {
  const { fd } = asRoot && rights === null ? openInRootOnlyDirectory(path, flags, 0o640) : openRegularFile(AT_FDCWD, resolve(path), flags, 0o640, path, false, rights);
  refusePseudoFilesystem(fd, path);
  return fd;
}

const expectedOf = (asRoot: boolean, rights: FsRights | null): string =>
  rights !== null ? `expected a regular file uid ${rights.uid} can write` : asRoot ? 'expected a file in a directory only root can write to' : 'expected a regular file angel can open';

/** What opening the log file at start would answer, in the same words, without creating it (`angel check`):
 * a file not there yet passes when angel (or the user it acts for) may create it in its directory. */
export function checkLogFile(path: string, name = '--log-file', rights: FsRights | null = null): void {
  const asRoot = process.geteuid?.() === 0;
  try {
    closeSync(openLog(path, OPEN_FLAGS & ~constants.O_CREAT, asRoot, rights));
  } catch (error) {
    const directory = dirname(resolve(path));
    // a missing directory, or anything but a missing file, is what the start's open says too
    if (!(error instanceof UnsafePath && error.code === 'ENOENT' && isDirectory(directory))) asUsageError(error, name, path, expectedOf(asRoot, rights));
    try {
      if (rights === null) accessSync(directory, constants.W_OK);
      else closeSync(openAt(AT_FDCWD, directory, constants.O_RDONLY | constants.O_DIRECTORY, 0, rights));
    } catch (denied) {
      asUsageError(new UnsafePath(`open ${asRoot ? resolve(path) : path}: ${errorCode(denied)}`), name, path, expectedOf(asRoot, rights));
    }
  }
}

/** The directory of the log file, walked and checked as its open walks and checks it: from `/`, each
 * directory root's alone, when angel is root for itself; with the user's rights when it acts for one. */
function openLogDirectory(path: string, rights: FsRights | null): number {
  const directory = dirname(resolve(path));
  if (process.geteuid?.() === 0 && rights === null) return openRootOnlyDirectory(directory);
  return openAt(AT_FDCWD, directory, constants.O_RDONLY | constants.O_DIRECTORY, 0, rights);
}

/** Rotates the log file `fd` is open on: FILE.(keep-1) becomes FILE.keep (replacing the oldest), …, FILE
 * becomes FILE.1, and a fresh FILE is opened and returned. The directory is walked and checked again now,
 * and every rename and the open are made through its fd, with the user's rights when angel acts for one: a
 * directory swapped in since the start is refused, not written into. Only the file angel writes is moved: when
 * the name holds another file by now (logrotate moved it and its SIGUSR1 is still to come, or it was
 * removed), nothing is renamed and the file at the name is opened, as a reopen would. Throws UnsafePath or
 * the error of the step that failed, with its errno; angel then writes on into the file it has open. */
export function rotateLogFile(path: string, fd: number, keep: number, rights: FsRights | null): number {
  let directory: number;
  try {
    directory = openLogDirectory(path, rights);
  } catch (error) {
    if (error instanceof UnsafePath) throw error;
    throw new UnsafePath(`open ${dirname(resolve(path))}: ${errorCode(error)}`, errorCode(error));
  }
  try {
    const name = basename(resolve(path));
    const entry = lstatAt(directory, name, rights);
    const open = fstatSync(fd, { bigint: true });
    if (entry !== null && entry[1] === open.dev && entry[2] === open.ino) {
      for (let older = keep - 1; older >= 1; older--) renameAt(directory, `${name}.${older}`, `${name}.${older + 1}`, rights);
      renameAt(directory, name, `${name}.1`, rights);
    }
    const fresh = openRegularFile(directory, name, OPEN_FLAGS, 0o640, path, false, rights).fd;
    refusePseudoFilesystem(fresh, path);
    return fresh;
  } finally {
    closeSync(directory);
  }
}

// The files `angel bench` opens: the scratch file the program's output goes to (so it cannot garble the
// table or the progress bar, and a failed run can quote it), and the exports, checked before the first cycle
// so a bad path fails at once rather than after the whole run. An export's path is the user's: when angel is
// root for someone else it is opened and created with that user's rights, never through a symlink at its
// name, and never on a kernel filesystem.
import { accessSync, chownSync, closeSync, constants, fstatSync, mkdtempSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { errorCode } from '../core/errnos.js';
import { UsageError } from '../core/errors.js';
import { AT_FDCWD, openRegularFile, refusePseudoFilesystem, UnsafePath } from './safeopen.js';
import { openAt, type FsRights } from './syscalls.js';

const errnoOf = (error: unknown): string => (error instanceof UnsafePath ? error.message : errorCode(error));

export interface Scratch {
  /** Where the program's stdout and stderr go (as --log-file). */
  readonly logPath: string;
  remove(): void;
}

/** A directory of angel's own (mode 0700: as root, --log-file must lie where only root can write); the user's
 * when angel is root for someone else, whose rights open the log file. In /tmp then, not in a TMPDIR that user
 * named. */
export function makeScratch(rights: FsRights | null = null): Scratch {
  const dir = mkdtempSync(join(rights === null ? tmpdir() : '/tmp', 'angel-bench-'));
  if (rights !== null) chownSync(dir, rights.uid, rights.gid);
  return { logPath: join(dir, 'output.log'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The last `count` lines of a file, read from its last 4 KiB (as `rights`, when given); none when it cannot
 * be read. */
export function lastLines(path: string, count: number, rights: FsRights | null = null): string[] {
  let fd: number;
  try {
    fd = openRegularFile(AT_FDCWD, resolve(path), constants.O_RDONLY, 0, path, false, rights).fd;
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(size, 4096));
    const length = readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8', 0, length).split('\n').filter((line) => line.trim() !== '').slice(-count);
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}

const EXPORT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;

/** Opens an export for writing as `rights` (or angel), without following a symlink at its name; created 0644. */
function openExport(path: string, flags: number, rights: FsRights | null): number {
  const { fd } = openRegularFile(AT_FDCWD, resolve(path), flags, 0o644, path, false, rights);
  refusePseudoFilesystem(fd, path);
  return fd;
}

/** Throws a UsageError naming the flag when `path` could not be written: a directory, a symlink, a kernel
 * file, or no write access to it or to the directory it would be created in (as `rights`, when given).
 * Nothing is created. */
export function checkWritable(path: string, flag: string, rights: FsRights | null = null): void {
  const absolute = resolve(path);
  try {
    let exists = true;
    try {
      closeSync(openExport(absolute, constants.O_WRONLY, rights));
    } catch (error) {
      if (!(error instanceof UnsafePath && error.code === 'ENOENT')) throw error;
      exists = false;
    }
    if (exists) return;
    if (rights === null) accessSync(dirname(absolute), constants.W_OK);
    else closeSync(openAt(AT_FDCWD, dirname(absolute), constants.O_RDONLY | constants.O_DIRECTORY, 0, rights));
  } catch (error) {
    throw new UsageError(flag, path, `expected a file angel can write (${errnoOf(error)})`);
  }
}

export function writeExport(path: string, text: string, flag: string, rights: FsRights | null = null): void {
  let fd: number;
  try {
    fd = openExport(path, EXPORT_FLAGS, rights);
  } catch (error) {
    throw new UsageError(flag, path, `expected a file angel can write (${errnoOf(error)})`);
  }
  try {
    const data = Buffer.from(text);
    for (let written = 0; written < data.length;) written += writeSync(fd, data, written);
  } catch (error) {
    throw new UsageError(flag, path, `expected a file angel can write (${errnoOf(error)})`);
  } finally {
    closeSync(fd);
  }
}

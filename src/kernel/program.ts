// The program, resolved once and opened once. When angel acts for someone else, or is locked to one binary,
// the file it checks must be the file it runs: a name looked up again at every spawn (with a PATH the user
// gave the child) or a path opened again could be another file by then. So the file is opened here, checked
// through its fd, and executed from that fd (execveat) for every generation.
import { closeSync, constants, fstatSync, readSync, type Stats } from 'node:fs';
import { errorCode } from '../core/errnos.js';
import { SpawnError } from '../core/errors.js';
import { openAt } from './syscalls.js';
import { AT_FDCWD } from './safeopen.js';
import { resolveProgram } from './spawn.js';

export interface ProgramFile {
  /** The absolute path, resolved as execvp(3) would in the child's PATH. */
  readonly path: string;
  /** The open file that is executed. */
  readonly fd: number;
  readonly stat: Stats;
  /** It starts with `#!`: the fd must stay open across exec for the interpreter to read it. */
  readonly script: boolean;
}

/** Resolves and opens the program; a SpawnError (127 not found, 126 not runnable) otherwise. Following
 * symlinks is right here: /usr/bin/python3 is one, and the fd is what gets checked. */
export function openProgram(program: string, pathList: string | undefined, cwd: string | undefined): ProgramFile {
  return openExecutable(resolveProgram(program, pathList, cwd));
}

/** Opens an absolute path as the file to execute (`flags` adds O_NOFOLLOW, say). */
export function openExecutable(path: string, flags = 0): ProgramFile {
  let fd: number;
  try {
    // non-blocking: a FIFO planted at the path would otherwise hang angel in open(2)
    fd = openAt(AT_FDCWD, path, constants.O_RDONLY | constants.O_NONBLOCK | flags, 0);
  } catch (error) {
    throw new SpawnError(path, 'open', errorCode(error), (error as NodeJS.ErrnoException).errno);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    // what execve(2) itself answers for anything but a regular file
    throw new SpawnError(path, 'execve', 'EACCES', undefined, 'not a regular file');
  }
  const magic = Buffer.alloc(2);
  const script = readSync(fd, magic, 0, 2, 0) === 2 && magic.toString('latin1') === '#!';
  return { path, fd, stat, script };
}

export function closeProgram(program: ProgramFile | null): void {
  if (program) closeSync(program.fd);
}



// What the child's user can reach, asked of the kernel before anything runs (at every start, so `angel check`
// too): its working directory, its program and, for a script, the script itself (its interpreter opens it to
// read it) and the interpreter (the kernel executes it), to the kernel's depth of #! chains. Each is asked
// with that user's filesystem rights (faccessat2 with AT_EACCESS under setfsuid: syscalls.accessAt), so the
// answer is the one the child's own chdir, execve and open would get, where angel, as root, is let through:
// a working directory nobody can enter, or a script nobody can read, is refused before the first spawn
// instead of failing in the child (126) or crash-looping (the interpreter exits 2 at every start).
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorCode } from '../core/errnos.js';
import { SpawnError } from '../core/errors.js';
import { parseShebang } from '../core/shebang.js';
import { firstLine, MAX_INTERPRETER_DEPTH } from './rootpath.js';
import { resolveProgram } from './spawn.js';
import { accessAt, type FsRights } from './syscalls.js';
import { AT_FDCWD } from './safeopen.js';

/** Who the child runs as, for the kernel and for messages; null: as angel itself. */
export interface ChildUser {
  readonly rights: FsRights;
  /** `nobody`, or `uid 65534` */
  readonly name: string;
}

/** The errno name the kernel answers the child's user with for `mode` on `path`, or null when it may. */
function refusal(path: string, mode: number, user: ChildUser | null): { code: string; errno: number | undefined } | null {
  try {
    accessAt(AT_FDCWD, path, mode, user?.rights ?? null);
    return null;
  } catch (error) {
    return { code: errorCode(error), errno: (error as NodeJS.ErrnoException).errno };
  }
}

/** The `#!` line of a file angel can read, or null: a binary, or a file closed to angel itself (an
 * execute-only binary of another user's, for an angel that is not root), whose first bytes only the kernel
 * reads. */
function interpreterOf(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    return fstatSync(fd).isFile() ? (parseShebang(firstLine(fd))?.interpreter ?? null) : null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Throws the SpawnError the child would meet, naming the step (`chdir`, `execve`, `open`), the errno and the
 * user: `spawn /srv/app/run.sh: open: EACCES (its interpreter /bin/sh reads it, as nobody)`. A program that is
 * not found is left to the spawn, which says so in its own words.
 */
export function checkChildAccess(program: string, pathList: string | undefined, cwd: string | null, user: ChildUser | null): void {
  const as = user === null ? '' : `, as ${user.name}`;
  if (cwd !== null) {
    const refused = refusal(cwd, constants.X_OK, user);
    if (refused) throw new SpawnError(program, 'chdir', refused.code, refused.errno, `${cwd}${as}`);
  }
  let path: string;
  try {
    path = resolveProgram(program, pathList, cwd ?? undefined);
  } catch (error) {
    if (error instanceof SpawnError) return;
    throw error;
  }
  // as angel itself, the spawn's own execve says it, as it always has (a spawn-error event)
  const executable = user === null ? null : refusal(path, constants.X_OK, user);
  if (executable) throw new SpawnError(path, 'execve', executable.code, executable.errno, `as ${user?.name}`);
  let script = path;
  for (let depth = 1; ; depth++) {
    const interpreter = interpreterOf(script);
    if (interpreter === null) return;
    if (depth > MAX_INTERPRETER_DEPTH) throw new SpawnError(path, 'execve', 'ELOOP', undefined, `interpreters nested more than ${MAX_INTERPRETER_DEPTH} deep`);
    const readable = refusal(script, constants.R_OK, user);
    if (readable) throw new SpawnError(script, 'open', readable.code, readable.errno, `its interpreter ${interpreter} reads it${as}`);
    // the kernel looks a relative interpreter up from the working directory of the process that executes
    const found = resolve(cwd ?? process.cwd(), interpreter);
    const runnable = refusal(found, constants.X_OK, user);
    if (runnable) throw new SpawnError(script, 'execve', runnable.code, runnable.errno, `its interpreter ${interpreter}${as}`);
    script = found;
  }
}

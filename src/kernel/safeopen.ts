// Opening a path that someone else named, as root. Node opens by path, which follows whatever a directory
// holds at that moment; here every directory is opened with openat(2) from the one before it, checked
// through the fd that was opened (fstat), and the file is opened in the last of them: what is checked is
// what is used, and no rename or planted symlink between two steps changes it. When angel is root for another
// user, each open is made with that user's filesystem rights too (`rights`, native/rights.c), as sudoedit
// does: angel reaches through such a path only what that user could. Every open is non-blocking (a FIFO
// would otherwise hang angel in open(2) until a writer or reader came) and every file must be a regular file
// before a byte is read or written.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, statfsSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { errorCode } from '../core/errnos.js';
import { oneLine, truncate, UsageError } from '../core/errors.js';
import { openAt, type FsRights } from './syscalls.js';

const AT_FDCWD = -100;
// not in fs.constants; the same on every Linux architecture Node runs on
const O_PATH = 0o10000000;
const S_ISVTX = 0o1000;
const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** A path that failed a check: what was wrong, and where. */
export class UnsafePath extends Error {
  override name = 'UnsafePath';
  /** The errno name, when a system call refused. */
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

function errnoOf(error: unknown): string {
  if (typeof (error as NodeJS.ErrnoException).code === 'string') return errorCode(error);
  throw error;
}

/** Why the directory behind `fd` may not hold a file root writes or trusts, or null when it may. A sticky
 * directory of root's (/tmp) may lie on the way: others can create entries there, but cannot rename or
 * remove one of root's, so the root-owned directory below it stays what it is. */
function unsafeDirectory(stat: Stats, path: string, last: boolean): string | null {
  if (!stat.isDirectory()) return `${path} is not a directory`;
  if (stat.uid !== 0) return `${path} is owned by uid ${stat.uid}, mode ${octal(stat.mode)}`;
  const sticky = (stat.mode & S_ISVTX) !== 0;
  if ((stat.mode & 0o022) !== 0 && (last || !sticky)) return `${path} is writable by others, mode ${octal(stat.mode)}`;
  return null;
}

function openComponent(parentFd: number, name: string, path: string, rights: FsRights | null): number {
  try {
    return openAt(parentFd, name, DIRECTORY, 0, rights);
  } catch (error) {
    const code = errnoOf(error);
    // O_NOFOLLOW|O_DIRECTORY answers ENOTDIR for a symlink, the same as for a file: tell them apart
    if (code === 'ENOTDIR' && isSymlink(parentFd, name, rights)) throw new UnsafePath(`${path} is a symlink, ELOOP`);
    throw new UnsafePath(`${path}: ${code}`, code);
  }
}

function isSymlink(parentFd: number, name: string, rights: FsRights | null): boolean {
  let fd = -1;
  try {
    fd = openAt(parentFd, name, O_PATH | constants.O_NOFOLLOW, 0, rights);
    return fstatSync(fd).isSymbolicLink();
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Opens the directory `path` one component at a time from `/`, none a symlink, each owned by root and
 * writable by no one else (see unsafeDirectory); with `rights`, each opened as that user. Returns its fd;
 * throws UnsafePath naming the component.
 */
export function openRootOnlyDirectory(path: string, rights: FsRights | null = null): number {
  const absolute = resolve(path);
  const parts = absolute.split('/').filter((part) => part !== '');
  let fd = openAt(AT_FDCWD, '/', DIRECTORY, 0, rights);
  let at = '';
  try {
    for (let i = 0; ; i++) {
      const problem = unsafeDirectory(fstatSync(fd), at || '/', i === parts.length);
      if (problem) throw new UnsafePath(problem);
      if (i === parts.length) return fd;
      const part = parts[i] as string;
      at = `${at}/${part}`;
      const next = openComponent(fd, part, at, rights);
      closeSync(fd);
      fd = next;
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Opens `name` in `dirFd` (or a path, with AT_FDCWD) without following a symlink or blocking on a FIFO,
 * and returns it only when it is a regular file; with `rights`, opened (or created) as that user. */
export function openRegularFile(dirFd: number, name: string, flags: number, mode = 0, path = name, follow = false, rights: FsRights | null = null): { fd: number; stat: Stats } {
  let fd: number;
  try {
    const all = flags | constants.O_NONBLOCK | (follow ? 0 : constants.O_NOFOLLOW);
    // from the working directory Node's own open does (close-on-exec too), and needs no addon: `angel check`
    fd = dirFd === AT_FDCWD && rights === null ? openSync(name, all, mode) : openAt(dirFd, name, all, mode, rights);
  } catch (error) {
    const code = errnoOf(error);
    throw new UnsafePath(code === 'ELOOP' ? `${path} is a symlink, ELOOP` : `open ${path}: ${code}`, code);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new UnsafePath(`${path} is not a regular file (${kindOf(stat)})`);
  }
  return { fd, stat };
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  return 'not a file';
}

/** Opens `path` in a directory only root can write to (see openRootOnlyDirectory); with `rights`, walked and
 * opened as that user. */
export function openInRootOnlyDirectory(path: string, flags: number, mode = 0, rights: FsRights | null = null): { fd: number; stat: Stats } {
  const absolute = resolve(path);
  const dirFd = openRootOnlyDirectory(dirname(absolute), rights);
  try {
    return openRegularFile(dirFd, basename(absolute), flags, mode, absolute, false, rights);
  } finally {
    closeSync(dirFd);
  }
}

// The filesystems of the kernel's own state (statfs(2)'s f_type): a "regular file" there is a knob
// (/proc/sys/kernel/core_pattern, a sysfs attribute, a cgroup's limit), never a log or an export.
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x1cd1, 'devpts'], [0x64626720, 'debugfs'], [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'], [0xcafe4a11, 'bpf'], [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'], [0xde5e81e4, 'efivarfs'], [0x65735543, 'fusectl'], [0x42494e4d, 'binfmt_misc'], [0x19800202, 'mqueue'],
]);
const TMPFS_MAGIC = 0x01021994;

/** The kind of kernel filesystem an open file lies on when it is one (proc, sysfs, devtmpfs, …), else null.
 * devtmpfs has tmpfs's f_type: it is told by its name in mountinfo. */
export function pseudoFilesystemOf(fd: number): string | null {
  let type: number;
  try {
    // statfs(2) follows the /proc/self/fd link to the open file itself
    type = statfsSync(`/proc/self/fd/${fd}`).type;
  } catch {
    return null;
  }
  const pseudo = PSEUDO_FILESYSTEMS.get(type);
  if (pseudo !== undefined || type !== TMPFS_MAGIC) return pseudo ?? null;
  return mountTypeOf(fstatSync(fd, { bigint: true }).dev) === 'devtmpfs' ? 'devtmpfs' : null;
}

/** The filesystem type mountinfo gives the mount of a device number, or null. */
function mountTypeOf(dev: bigint): string | null {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields[2] !== `${major}:${minor}`) continue;
    return fields[fields.indexOf('-') + 1] ?? null;
  }
  return null;
}

/** Throws UnsafePath when the open file lies on a kernel filesystem (pseudoFilesystemOf); closes it first. */
export function refusePseudoFilesystem(fd: number, path: string): void {
  const pseudo = pseudoFilesystemOf(fd);
  if (pseudo === null) return;
  closeSync(fd);
  throw new UnsafePath(`${path} is on ${pseudo}, the kernel's own filesystem`);
}

/** Reads at most `maxBytes` of an open regular file; more is an error, so /dev/zero-sized input cannot grow
 * angel (the size fstat reports is not trusted: /proc files say 0). A read the kernel refuses (EIO from
 * /proc/self/mem, EAGAIN from /proc/kmsg) is an UnsafePath naming its errno. */
function readBounded(fd: number, maxBytes: number, path: string): Buffer {
  const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    let read: number;
    try {
      read = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      throw new UnsafePath(`read ${path}: ${errnoOf(error)}`, errnoOf(error));
    }
    if (read === 0) return Buffer.concat(chunks, total);
    total += read;
    if (total > maxBytes) throw new UnsafePath(`${path} is larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(buffer.subarray(0, read)));
  }
}

/** Reads a regular file someone named, at most `maxBytes` of it, symlinks followed (a Kubernetes ConfigMap's
 * files are symlinks). With `rights`, opened as that user: a file they cannot read is refused before a byte is
 * read. With `rootsOwn`, the file is trusted as root's own settings, so it must be a file only root could have
 * written, in directories only root can write to, reached without a symlink. Throws UnsafePath. */
export function readNamedFile(path: string, maxBytes: number, rights: FsRights | null, rootsOwn: boolean): Buffer {
  const { fd, stat } = rootsOwn
    ? openInRootOnlyDirectory(path, constants.O_RDONLY, 0, rights)
    : openRegularFile(AT_FDCWD, resolve(path), constants.O_RDONLY, 0, path, true, rights);
  try {
    if (rootsOwn && (stat.uid !== 0 || (stat.mode & 0o022) !== 0)) throw new UnsafePath(`${path} is owned by uid ${stat.uid}, mode ${octal(stat.mode)}`);
    return readBounded(fd, maxBytes, path);
  } finally {
    closeSync(fd);
  }
}

/** Turns an UnsafePath into the usage error of the flag that named the path. */
export function asUsageError(error: unknown, flag: string, value: string, expected: string): never {
  // the path in the message is the user's: cut it as the value is, so the error stays one readable line
  if (error instanceof UnsafePath) throw new UsageError(flag, value, `${expected} (${truncate(oneLine(error.message))})`);
  throw error;
}

/** Whether a directory is at `path` (angel's view; the child's identity may still be refused at chdir). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function closeDirectory(fd: number): void {
  closeSync(fd);
}

export { AT_FDCWD };

// Loads the addon once, on first use, and declares its shape. Only syscalls.ts calls it: the addon is
// mechanism, everything it is told was decided in TypeScript. Where it comes from is node-gyp-build's rule:
// a build from source (build/Release, then build/Debug: a checkout's, a locked build's, or an install's that
// found no prebuild) before the prebuild the package ships for this platform and C library
// (prebuilds/linux-x64/*.glibc.node, *.musl.node).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
// imported, not required by name when the addon is first wanted: the command's bundle then holds it, and a
// launch resolves no package in node_modules
import nodeGypBuild from 'node-gyp-build';
import { packageRoot } from './packageroot.js';

/** The environment variable node-gyp-build reads at each resolve to choose the directory it loads from.
 * angel's addon is the one installed beside it, whatever its starter's environment says: under a sudo that keeps
 * it, ANGEL_SUPERVISOR_PREBUILD would have root load the user's own .node. The ones it reads once, when its
 * module is evaluated (PREBUILDS_ONLY, LIBC, npm_config_arch, …, which steer it to another file of the package),
 * are not in the command's bundle: scripts/bundle.mjs defines them away. */
const PREBUILD_DIRECTORY = 'ANGEL_SUPERVISOR_PREBUILD';

/** Strings converted for C once (prepareStrings), which spawn's envp takes in their place. */
export interface PreparedStrings {
  readonly __prepared: unique symbol;
}

/** A program converted for C once (prepareProgram), which spawn starts. */
export interface PreparedProgram {
  readonly __program: unique symbol;
}

/** What stays the same from one spawn of a launch to the next (native/process.c struct program); every field
 * given. */
export interface NativeProgram {
  /** Absolute: resolved before the fork. */
  path: string;
  argv: readonly string[];
  cwd: string | null;
  /** [resource, soft, hard, …]; -1 is RLIM_INFINITY. */
  rlimits: readonly number[];
  /** -1 keeps angel's. */
  uid: number;
  gid: number;
  /** null keeps angel's supplementary groups. */
  groups: readonly number[] | null;
  noNewPrivs: boolean;
  /** >= 0: the program is executed through this fd (execveat), not its path. */
  execFd: number;
  execFdInherit: boolean;
  /** 0: none. */
  parentDeathSignal: number;
}

/** What may change from one spawn of a program to the next: the generation's environment, fds and cgroup. */
export interface NativeSpawnFields {
  /** The environment's first strings, converted once (null: none). */
  envBase: PreparedStrings | null;
  /** Its strings after envBase's. */
  env: readonly string[];
  /** The string of env (NAME= and 20 bytes of room) the child writes its pid into (-1: none). */
  listenPidIndex: number;
  /** The same for WATCHDOG_PID= (-1: none). */
  watchdogPidIndex: number;
  /** fds[i] becomes the child's fd i; -1 leaves it closed. */
  fds: readonly number[];
  /** A cgroup v2 directory the child starts in (-1: none). */
  cgroupFd: number;
  /** A cgroup v1 cgroup.procs the child writes itself into (-1: none). */
  cgroupProcsFd: number;
}

/** Everything the fork path needs, as struct angel_spawn_spec names it (native/spawn.h): a one-off spawn's. */
export type NativeSpawnSpec = NativeProgram & NativeSpawnFields;

export interface NativeAddon {
  /** Throws a TypeError naming the field that is not what NativeProgram says. */
  prepareProgram(program: NativeProgram): PreparedProgram;
  /** Starts the program once it has exec'd, its pid, pidfd and exec time written into `layout`; throws an Error with
   * code/errno/syscall(/resource). env holds its strings each ended by a NUL byte; layout the numbers and fds,
   * as syscalls.ts lays them out (native/process.c says why). */
  spawn(program: PreparedProgram, envBase: PreparedStrings | null, env: string, layout: Int32Array): void;
  /** Throws a TypeError for a string with a NUL byte, as spawn does. */
  prepareStrings(strings: readonly string[]): PreparedStrings;
  watchExit(
    pidfd: number,
    callback: (code: number | null, signal: number | null, coreDumped: boolean) => void,
  ): void;
  sendSignal(pidfd: number, signal: number): boolean;
  signalGroup(pgid: number, signal: number): boolean;
  getgrouplist(user: string, gid: number): number[];
  /** getpwnam_r/getpwuid_r: [name, uid, gid, home], or null when there is no such user. */
  lookupUser(user: string | number): [string, number, number, string] | null;
  /** getgrnam_r/getgrgid_r: [name, gid], or null when there is no such group. */
  lookupGroup(group: string | number): [string, number] | null;
  setChildSubreaper(on: boolean): void;
  /** Reaps that one child if it has ended (waitid(P_PID, WNOHANG)); false if it runs on or is not ours. */
  reapPid(pid: number): boolean;
  /** Reaps every child that ended until none is left or the next is one of `keep` (reaped elsewhere): [that
   * kept one's pid or 0, ...the pids reaped]. */
  reapEnded(keep: Int32Array): number[];
  /** sched_yield(2). */
  yieldProcessor(): void;
  /** Returns [fd, boundPort]; throws with code EADDRINUSE, EACCES, … An IPv6 socket without `v6only` takes IPv4
   * connections too. */
  listenInet(family: 4 | 6, address: string, port: number, backlog: number, v6only: boolean): [number, number];
  /** Binds with the mode from the umask (never a chmod by name), with `rights` when given. */
  listenUnix(path: string, backlog: number, mode: number, rights: RightsTuple | null): number;
  /** flock(2): true once taken; without `wait`, false when another holds it. */
  lockFd(fd: number, exclusive: boolean, wait: boolean): boolean;
  /** Returns [readFd, writeFd], both close-on-exec. */
  pipe(): [number, number];
  /** Accepts every connection waiting on a listening stream socket, sends each `text` and closes it, never
   * waiting; the count, or -errno when accept failed otherwise than for want of a connection. */
  acceptSend(fd: number, text: string): number;
  /** openat(2), close-on-exec; dirFd AT_FDCWD (-100) for a path from the working directory; with `rights`,
   * opened with that user's filesystem rights. */
  openAt(dirFd: number, name: string, flags: number, mode: number, rights: RightsTuple | null): number;
  /** faccessat2(AT_EACCESS) with `rights` when given: throws (EACCES, ENOENT, …) unless they may (mode R_OK,
   * W_OK, X_OK). */
  accessAt(dirFd: number, name: string, mode: number, rights: RightsTuple | null): void;
  /** fstatat(AT_SYMLINK_NOFOLLOW): [st_mode, st_dev, st_ino], or null when there is no such entry. */
  lstatAt(dirFd: number, name: string, rights: RightsTuple | null): [number, bigint, bigint] | null;
  /** unlinkat(2): true when it removed one, false when there was none. */
  unlinkAt(dirFd: number, name: string, rights: RightsTuple | null): boolean;
  /** renameat(2) within one directory, replacing `to`: true when it renamed, false when there was no `from`. */
  renameAt(dirFd: number, from: string, to: string, rights: RightsTuple | null): boolean;
  /** pread(2) into buffer[offset, offset + length): the bytes read; throws (ESRCH, EBADF, …). */
  readAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** fstat(2)'s st_nlink; throws (EBADF, …). */
  linkCount(fd: number): number;
  /** An eventfd, close-on-exec and non-blocking. */
  eventfd(): number;
  /** Calls back (on the loop, unref'd) while `fd` is readable, or has priority data with `priority`. */
  watchFd(fd: number, priority: boolean, callback: () => void): FdWatch;
  unwatchFd(watch: FdWatch): void;
  /** A bound SOCK_DGRAM with SO_PASSCRED, non-blocking, close-on-exec; a path, or `@name` (abstract). */
  notifySocket(path: string, mode: number): number;
  /** Reads the socket's datagrams with their sender's credentials (pid 0 when none came); the watch owns the
   * fd and does not keep the loop alive. */
  notifyWatch(fd: number, callback: (text: string, pid: number, uid: number, truncated: boolean) => void): NotifyWatchHandle;
  /** Stops reading and closes the socket; a second call does nothing. */
  notifyClose(handle: NotifyWatchHandle): void;
  /** One datagram to a path or `@name`, never blocking; throws with code EAGAIN, ECONNREFUSED, ENOENT, … */
  notifySend(address: string, text: string): void;
  readonly rlimitResources: Readonly<Record<string, number>>;
  /** sysconf(_SC_PAGESIZE). */
  readonly pageSize: number;
  /** The one program of a locked build, or null. */
  readonly lockedProgram: string | null;
}

/** Another user's filesystem rights for the span of one call (native/rights.c): [uid, gid, groups]. */
export type RightsTuple = readonly [number, number, readonly number[]];

/** A watch from watchFd, to hand back to unwatchFd. */
export type FdWatch = { readonly __brand: 'FdWatch' };
/** What notifyWatch returns: only notifyClose reads it. */
export type NotifyWatchHandle = { readonly __brand: 'NotifyWatchHandle' };

function load(): NativeAddon {
  const root = packageRoot();
  const built = join(root, 'build', 'Release', 'angel.node');
  const where = ['build/Release', 'build/Debug', `prebuilds/${process.platform}-${process.arch}`].map((dir) => join(root, dir)).join(', ');
  let path: string;
  // set aside while node-gyp-build resolves, then put back as it was: the child's environment is decided elsewhere
  const setAside = process.env[PREBUILD_DIRECTORY];
  delete process.env[PREBUILD_DIRECTORY];
  try {
    // node-gyp-build's first choice, taken without its resolve when it is there: that requires the package's
    // package.json (for the name of the variable set aside above) and lists the directory, 0.5 ms or more of a
    // launch's way to its first spawn; binding.gyp names the one file it builds
    path = existsSync(built) ? built : nodeGypBuild.path(root);
  } catch (error) {
    const why = (error as Error).message.split('\n')[0];
    throw new Error(`angel: the native addon is not built (run npm run build:native); looked in ${where}: ${why}`);
  } finally {
    if (setAside !== undefined) process.env[PREBUILD_DIRECTORY] = setAside;
  }
  try {
    // what require does with a .node file, without node:module's createRequire (which loads the ESM loader
    // with it, in a command that has no other use for it)
    const addonModule = { exports: {} as NativeAddon };
    process.dlopen(addonModule, path);
    return addonModule.exports;
  } catch (error) {
    throw new Error(`angel: the native addon at ${path} does not load (run npm run build:native); looked in ${where}: ${(error as Error).message.split('\n')[0]}`);
  }
}

let loaded: NativeAddon | null = null;

/** The addon, loaded on first use: `angel check` and the pure modules never need it, and a missing build
 * fails the first call that does, with the one error above. */
export function addon(): NativeAddon {
  loaded ??= load();
  return loaded;
}

// Loads the addon once, on first use, and declares its shape. Only syscalls.ts calls it: the addon is
// mechanism, everything it is told was decided in TypeScript.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeAddon {
  /** Returns [pid, pidfd] once the child has exec'd; throws an Error with code/errno/syscall(/resource). */
  spawn(
    path: string,
    argv: readonly string[],
    envp: readonly string[],
    listenPidIndex: number,
    cwd: string | null,
    fds: readonly number[],
    rlimits: readonly number[],
    uid: number,
    gid: number,
    groups: readonly number[] | null,
    noNewPrivs: boolean,
    execFd: number,
    execFdInherit: boolean,
    parentDeathSignal: number,
    cgroupFd: number,
    cgroupProcsFd: number,
  ): [number, number];
  watchExit(
    pidfd: number,
    callback: (code: number | null, signal: number | null, coreDumped: boolean) => void,
  ): void;
  sendSignal(pidfd: number, signal: number): boolean;
  signalGroup(pgid: number, signal: number): boolean;
  getgrouplist(user: string, gid: number): number[];
  setChildSubreaper(on: boolean): void;
  /** Returns [fd, boundPort]; throws with code EADDRINUSE, EACCES, … */
  listenInet(family: 4 | 6, address: string, port: number, backlog: number): [number, number];
  listenUnix(path: string, backlog: number, mode: number): number;
  /** Returns [readFd, writeFd], both close-on-exec. */
  pipe(): [number, number];
  /** openat(2), close-on-exec; dirFd AT_FDCWD (-100) for a path from the working directory. */
  openAt(dirFd: number, name: string, flags: number, mode: number): number;
  /** An eventfd, close-on-exec and non-blocking. */
  eventfd(): number;
  /** Calls back (on the loop, unref'd) while `fd` is readable, or has priority data with `priority`. */
  watchFd(fd: number, priority: boolean, callback: () => void): FdWatch;
  unwatchFd(watch: FdWatch): void;
  readonly rlimitResources: Readonly<Record<string, number>>;
  /** The one program of a locked build, or null. */
  readonly lockedProgram: string | null;
}

/** A watch from watchFd, to hand back to unwatchFd. */
export type FdWatch = { readonly __brand: 'FdWatch' };

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const candidates = [join(packageRoot, 'build', 'Release', 'angel.node'), join(packageRoot, 'build', 'Debug', 'angel.node')];

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      return require(candidate) as NativeAddon;
    } catch (error) {
      failures.push(`${candidate}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  throw new Error(`angel: the native addon is not built (run npm run build:native); looked in ${failures.join('; ')}`);
}

let loaded: NativeAddon | null = null;

/** The addon, loaded on first use: `angel check` and the pure modules never need it, and a missing build
 * fails the first call that does, with the one error above. */
export function addon(): NativeAddon {
  loaded ??= load();
  return loaded;
}

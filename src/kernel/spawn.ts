// The only caller of the addon's spawn: typed options in, flat arguments to C, native errors out as SpawnError.
import { accessSync, closeSync, constants as fsConstants, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { errorCode } from '../core/errnos.js';
import { SpawnError } from '../core/errors.js';
import { RLIMIT_NAMES, type Rlimits } from '../core/limits.js';
import type { PreparedStrings } from './syscalls.js';
import * as syscalls from './syscalls.js';
import { signalName, signalNumber, type SignalLike } from '../core/signames.js';

export interface SpawnOptions {
  /** A path, or a name looked up in the child's PATH. */
  program: string;
  args?: readonly string[];
  /** The child's whole environment (default: angel's); an Environ when the same one is used again and again. */
  env?: Readonly<Record<string, string | undefined>> | Environ;
  cwd?: string;
  /** fds[i] becomes the child's fd i (-1: closed); every other fd is closed at exec. Default [0, 1, 2]. */
  fds?: readonly number[];
  rlimits?: Rlimits;
  uid?: number;
  gid?: number;
  /** Supplementary groups; omitted keeps angel's. */
  groups?: readonly number[];
  /** PR_SET_NO_NEW_PRIVS: setuid binaries and file capabilities cannot raise the child's privileges. */
  noNewPrivs?: boolean;
  /** Set LISTEN_PID to the child's own pid (between fork and exec, where the pid is first known). */
  listenPid?: boolean;
  /** Exec this open file (execveat) instead of the resolved path: what runs is what was checked. */
  execFd?: number;
  /** Keep execFd open in the new program: a #! script's interpreter opens it as /dev/fd/N. */
  execFdInherit?: boolean;
  /** The signal the child gets when angel dies (PR_SET_PDEATHSIG), so it is not left behind unsupervised. */
  parentDeathSignal?: SignalLike;
  /** The cgroup the child is in from its first instruction: a v2 directory's fd (clone3 CLONE_INTO_CGROUP), or
   * a v1 cgroup.procs open for writing (the child writes itself in, first thing in the fork path). */
  cgroup?: { dirFd: number } | { procsFd: number };
  /** Set WATCHDOG_PID to the child's own pid, as LISTEN_PID (sd_watchdog_enabled(3)). */
  watchdogPid?: boolean;
}

export interface ChildExit {
  /** The exit code, or null when a signal ended the child. */
  code: number | null;
  signal: NodeJS.Signals | null;
  coreDumped: boolean;
}

export interface ChildProcess {
  readonly pid: number;
  /** When the program's start began: the child's execve, on angel's clock (kernel/clock.ts), as the child read it
   * just before the call; never later than the program's first instruction, however late angel ran again. */
  readonly execAt: number;
  /** The absolute path that was executed. */
  readonly path: string;
  readonly exited: Promise<ChildExit>;
  /** The exit, once known (set before `exited` resolves). */
  readonly exit: ChildExit | undefined;
  /** Signals the child through its pidfd; false once it has exited (no PID-reuse race). */
  signal(signal: SignalLike): boolean;
  /** Signals the child's whole process group (it is a session leader); false when none of it is left. */
  signalGroup(signal: SignalLike): boolean;
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';
// a pid is at most 7 digits; each slot brings 20 bytes of room for the child to write its own into
const LISTEN_PID_SLOT = `LISTEN_PID=${'0'.repeat(20)}`;
const WATCHDOG_PID_SLOT = `WATCHDOG_PID=${'0'.repeat(20)}`;
const STDIO: readonly number[] = [0, 1, 2];

/** The variables whose values the child's own pid replaces. */
const pidVariables = (options: SpawnOptions): string[] => [...(options.listenPid ? ['LISTEN_PID'] : []), ...(options.watchdogPid ? ['WATCHDOG_PID'] : [])];

/** The strings an environment starts from, shared by those derived from it. From their second spawn on they go
 * to C prepared (converted once, kept by the addon): a large environment (npm's) would otherwise be converted
 * again on every restart's path. A one-off spawn converts its strings as it goes, as before. */
class BaseStrings {
  /** Per set of names left out: the uses so far, then the prepared strings. */
  readonly #forms = new Map<string, number | { prepared: PreparedStrings; strings: readonly string[] }>();

  constructor(
    readonly strings: readonly string[],
    readonly names: ReadonlySet<string>,
  ) {}

  /** The strings less the variables `left`. */
  less(left: readonly string[]): readonly string[] {
    return left.length === 0 ? this.strings : this.strings.filter((entry) => !left.some((name) => isVariable(entry, name)));
  }

  /** The strings less the variables `left` (names of this base), as spawn takes them: prepared, from their
   * second use on, or as strings. */
  forSpawn(left: readonly string[]): { prepared: PreparedStrings | null; strings: readonly string[] } {
    const key = left.length === 0 ? '' : JSON.stringify([...left].sort());
    const form = this.#forms.get(key) ?? 0;
    if (typeof form !== 'number') return form;
    const strings = this.less(left);
    if (form === 0) {
      this.#forms.set(key, 1);
      return { prepared: null, strings };
    }
    const prepared = { prepared: syscalls.prepareStrings(strings), strings: NO_STRINGS };
    this.#forms.set(key, prepared);
    return prepared;
  }
}

const NO_STRINGS: readonly string[] = [];

/**
 * An environment as execve takes it (KEY=VALUE strings), converted once. The supervisor spawns with the same
 * environment at every restart, less one variable: walking an object's entries and joining the strings again
 * would sit on every restart's path, ahead of the exec.
 */
export class Environ {
  readonly #base: BaseStrings;
  /** The base's variables that #added replaces. */
  readonly #replaced: readonly string[];
  readonly #added: readonly string[];
  /** The PATH the program is looked up in. */
  readonly path: string | undefined;

  private constructor(base: BaseStrings, replaced: readonly string[], added: readonly string[], path: string | undefined) {
    this.#base = base;
    this.#replaced = replaced;
    this.#added = added;
    this.path = path;
  }

  static of(env: Readonly<Record<string, string | undefined>>): Environ {
    const strings: string[] = [];
    const names = new Set<string>();
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) continue;
      strings.push(`${key}=${value}`);
      names.add(key);
    }
    return new Environ(new BaseStrings(strings, names), [], [], env.PATH);
  }

  /** This environment with `extra`'s variables set (replacing any of the same name). */
  with(extra: Readonly<Record<string, string>>): Environ {
    const names = Object.keys(extra);
    const replaced = [...this.#replaced, ...names.filter((name) => this.#base.names.has(name) && !this.#replaced.includes(name))];
    const added = this.#added.filter((entry) => !names.some((name) => isVariable(entry, name)));
    for (const name of names) added.push(`${name}=${extra[name]}`);
    return new Environ(this.#base, replaced, added, extra.PATH ?? this.path);
  }

  /** The strings, less the variables `drop`. */
  strings(...drop: string[]): string[] {
    return [...this.#base.less([...this.#replaced, ...drop]), ...this.#addedLess(drop)];
  }

  /** The strings less the variables `drop`, as spawn takes them: the base's (prepared, from the second spawn on),
   * then the rest, in a new list the caller may add to. */
  forSpawn(drop: readonly string[]): { base: PreparedStrings | null; strings: string[] } {
    const left = drop.length === 0 ? this.#replaced : [...this.#replaced, ...drop.filter((name) => this.#base.names.has(name))];
    const base = this.#base.forSpawn(left);
    return { base: base.prepared, strings: base.strings.concat(this.#addedLess(drop)) };
  }

  #addedLess(drop: readonly string[]): readonly string[] {
    return drop.length === 0 ? this.#added : this.#added.filter((entry) => !drop.some((name) => isVariable(entry, name)));
  }
}

const isVariable = (entry: string, name: string): boolean => entry.length > name.length && entry[name.length] === '=' && entry.startsWith(name);

/** Resolves the program as execvp(3) would, before the fork, so the child only has to execve. */
export function resolveProgram(program: string, pathList: string | undefined, cwd: string | undefined): string {
  if (program === '') throw new SpawnError(program, 'execve', 'ENOENT', undefined, 'empty program name');
  if (program.includes('/')) return isAbsolute(program) ? program : resolve(cwd ?? process.cwd(), program);
  let denied = false;
  for (const dir of (pathList ?? DEFAULT_PATH).split(delimiter)) {
    const candidate = resolve(cwd ?? process.cwd(), dir || '.', program);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  throw new SpawnError(program, 'execve', denied ? 'EACCES' : 'ENOENT', undefined, `not found in PATH=${pathList ?? DEFAULT_PATH}`);
}

/** What the spawn would answer about the program, without running it (`angel check`): looked up as above, then
 * the file must be there, a regular file, and executable (execve's ENOENT, ENOTDIR, EACCES), in the same
 * words. */
export function checkProgram(program: string, pathList: string | undefined, cwd: string | undefined): void {
  const path = resolveProgram(program, pathList, cwd);
  try {
    if (!statSync(path).isFile()) throw new SpawnError(path, 'execve', 'EACCES', undefined);
    accessSync(path, fsConstants.X_OK);
  } catch (error) {
    if (error instanceof SpawnError) throw error;
    throw new SpawnError(path, 'execve', errorCode(error), undefined);
  }
}

/** The limits as the addon takes them: [resource, soft, hard, …]. */
function flattenRlimits(rlimits: Rlimits | undefined): number[] {
  const values: number[] = [];
  if (!rlimits) return values;
  const resources = syscalls.rlimitResources();
  for (const name of RLIMIT_NAMES) {
    const limit = rlimits[name];
    const resource = resources[name];
    if (limit && resource !== undefined) values.push(resource, limit.soft, limit.hard);
  }
  return values;
}

function resourceName(resource: unknown): string | undefined {
  const entry = Object.entries(syscalls.rlimitResources()).find(([, number]) => number === resource);
  return entry?.[0].toUpperCase();
}

function toSpawnError(program: string, error: unknown): Error {
  const native = error as NodeJS.ErrnoException & { resource?: number };
  if (typeof native.code !== 'string' || typeof native.syscall !== 'string') return error as Error;
  const resource = resourceName(native.resource);
  const step = resource ? `${native.syscall}(${resource})` : native.syscall;
  return new SpawnError(program, step, native.code, native.errno);
}

/** Lets a child just started on this CPU run before angel goes on. The kernel releases a vfork parent at the
 * child's exec, and the waking parent preempts the child on their shared CPU: the rest of the exec and the
 * program's start would wait for angel's bookkeeping. A restart's critical path is the child's. */
export function letChildRun(): void {
  syscalls.yieldProcessor();
}

/** What stays the same from one start of a program to the next: all but the environment, the fds and the
 * cgroup, which each start gives. */
export type ProgramOptions = Omit<SpawnOptions, 'env' | 'fds' | 'cgroup'>;

/** What each start of a prepared program gives. */
export type StartOptions = Pick<SpawnOptions, 'env' | 'fds' | 'cgroup'>;

/**
 * A program prepared once and started again and again: the supervisor makes one per launch and starts every
 * generation from it. Its path, arguments, directory, limits and identity go to C once (converted on every call
 * they took some thirty N-API calls of a restart's path); each start passes only its environment, fds and
 * cgroup. The program is looked up at each start, as a spawn looks it up (what a PATH holds now), and converted
 * again only when that found another path. An fd number in it (execFd) means whatever file has that number at
 * the start, as it would if converted again.
 */
export class PreparedSpawn {
  readonly #options: ProgramOptions;
  #path: string | null = null;
  #program: syscalls.PreparedProgram | null = null;

  constructor(options: ProgramOptions) {
    // read again whenever the program is converted again: a copy, so what a later start runs is what was given
    this.#options = { ...options };
  }

  /** Starts the program with its limits, identity and fds already in force; returns once exec succeeded. */
  start(start: StartOptions): ChildProcess {
    const options = this.#options;
    const env = start.env instanceof Environ ? start.env : Environ.of(start.env ?? process.env);
    const path = resolveProgram(options.program, env.path, options.cwd);
    const program = this.#program !== null && this.#path === path ? this.#program : this.#prepare(path);
    // the addon writes the child's own pid into the LISTEN_PID= and WATCHDOG_PID= slots between fork and exec
    const { base, strings } = env.forSpawn(options.listenPid || options.watchdogPid ? pidVariables(options) : NO_STRINGS);
    const listenPidIndex = options.listenPid ? strings.push(LISTEN_PID_SLOT) - 1 : -1;
    const watchdogPidIndex = options.watchdogPid ? strings.push(WATCHDOG_PID_SLOT) - 1 : -1;
    const cgroup = start.cgroup;

    let pid: number, pidfd: number, execAt: number;
    try {
      [pid, pidfd, execAt] = syscalls.spawnProgram(program, {
        envBase: base,
        env: strings,
        listenPidIndex,
        watchdogPidIndex,
        fds: start.fds ?? STDIO,
        cgroupFd: cgroup !== undefined && 'dirFd' in cgroup ? cgroup.dirFd : -1,
        cgroupProcsFd: cgroup !== undefined && 'procsFd' in cgroup ? cgroup.procsFd : -1,
      });
    } catch (error) {
      throw toSpawnError(path, error);
    }
    return new Child(pid, pidfd, path, execAt);
  }

  #prepare(path: string): syscalls.PreparedProgram {
    const options = this.#options;
    this.#program = syscalls.prepareProgram({
      path,
      argv: [options.program, ...(options.args ?? [])],
      cwd: options.cwd ?? null,
      rlimits: flattenRlimits(options.rlimits),
      uid: options.uid ?? -1,
      gid: options.gid ?? -1,
      groups: options.groups ?? null,
      noNewPrivs: options.noNewPrivs ?? false,
      execFd: options.execFd ?? -1,
      execFdInherit: options.execFdInherit ?? false,
      parentDeathSignal: options.parentDeathSignal === undefined ? 0 : signalNumber(options.parentDeathSignal),
    });
    this.#path = path;
    return this.#program;
  }
}

/** Starts a program once: prepared for this start alone. */
export const spawnChild = (options: SpawnOptions): ChildProcess => new PreparedSpawn(options).start(options);

class Child implements ChildProcess {
  #exited: Promise<ChildExit> | null = null;
  #pidfd: number;
  #exit: ChildExit | undefined;

  constructor(
    readonly pid: number,
    pidfd: number,
    readonly path: string,
    readonly execAt: number,
  ) {
    this.#pidfd = pidfd;
  }

  /** The exit is watched from the first read of this on, not from the spawn: the watch is bookkeeping, and the
   * caller reads this once the child has had the processor (the supervisor, after letChildRun). A pidfd stays
   * readable once its process has ended, so a watch armed late misses nothing. */
  get exited(): Promise<ChildExit> {
    this.#exited ??= new Promise((resolveExit) => {
      syscalls.watchExit(
        this.#pidfd,
        (code, signal, coreDumped) => {
          // The child is reaped; its pidfd can go. Later signals report false instead of reaching a reused fd.
          closeSync(this.#pidfd);
          this.#pidfd = -1;
          this.#exit = { code, signal: signal === null ? null : (signalName(signal) ?? null), coreDumped };
          resolveExit(this.#exit);
        },
      );
    });
    return this.#exited;
  }

  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  signal(signal: SignalLike): boolean {
    if (this.#pidfd < 0) return false;
    return syscalls.sendSignal(this.#pidfd, signalNumber(signal));
  }

  signalGroup(signal: SignalLike): boolean {
    return syscalls.signalGroup(this.pid, signalNumber(signal));
  }
}

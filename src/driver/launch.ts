// Everything a start needs that depends on the system rather than on the options' text, decided once, at
// start and again on a reload: who the child runs as, its environment, which file it executes, and, when
// angel is root for someone else, whether that someone may ask for all of it. The CLI and supervise() both
// start from here, and a SIGHUP's new config goes through the same checks before it replaces anything.
import { envFromFile, fromConfigFile, nameOf, type ResolvedOptions } from '../core/options.js';
import type { Options } from '../core/types.js';
import { deliverable, INSPECTOR_SIGNAL } from '../core/rewrite.js';
import { ALLOWED_FOR_USER, allowedForUser, childEnvironment, childEnvironmentForRoot } from '../core/environment.js';
import { SpawnError, UsageError } from '../core/errors.js';
import { MIN_CAP_BYTES, showCap, type ResolvedCap } from '../core/memory.js';
import { checkChildAccess } from '../kernel/childaccess.js';
import { accountOf, resolveIdentity, type ChildIdentity } from '../kernel/identity.js';
import { openLockedProgram } from '../kernel/lock.js';
import { closeProgram, openProgram, type ProgramFile } from '../kernel/program.js';
import { checkRootRule, type StartingUser } from '../kernel/rootrule.js';
import { asUsageError, closeDirectory, isDirectory, openRootOnlyDirectory } from '../kernel/safeopen.js';
import type { GenerationSpec, Sampling } from './generation.js';
import { resolveMemoryCap } from '../kernel/ownmemory.js';
import { CgroupError } from '../kernel/cgroup.js';
import type { CgroupTree } from '../kernel/cgrouptree.js';
import type { GenerationCgroup } from '../kernel/generationcgroup.js';
import type { NotifyDirectory, NotifySocket } from '../kernel/notify.js';
import type { OwnMemoryLookup } from '../kernel/ownmemory.js';
import { closeReadyPipe, openReadyPipe } from '../kernel/ready.js';
import type { HeldSocket } from '../kernel/sockets.js';
import { checkLogFile } from '../kernel/logfile.js';
import { readEnvFiles } from '../kernel/envfile.js';
import { checkProgram, PreparedSpawn, type Environ } from '../kernel/spawn.js';

// what the face asks before a launch: who angel acts for, the config file (read with that user's rights), whether
// the addon loads, and the binary a locked build runs
export { readConfigFile } from '../kernel/configfile.js';
export { lockedProgram } from '../kernel/lock.js';
export { startingUser, type StartingUser } from '../kernel/rootrule.js';
export { addonLoadError } from '../kernel/syscalls.js';

export interface Launch {
  readonly options: ResolvedOptions;
  readonly identity: ChildIdentity | null;
  /** The child's environment, before the per-start (ANGEL_*) and socket (LISTEN_*) variables. */
  readonly env: Readonly<Record<string, string>>;
  /** The file every generation executes, when it must be the file that was checked (angel is root for
   * another user, or locked to one binary); null: the program is looked up as execvp(3) would. */
  readonly program: ProgramFile | null;
  /** --max-mem in bytes, and what they are a share of (a percentage resolved against the limit of angel's
   * cgroup now, or the machine's memory), or null. */
  readonly cap: ResolvedCap | null;
  /** The child runs as root, and angel acts for another user: signals that would hand that user the child
   * (SIGUSR1, core/rewrite.ts) are withheld. */
  readonly rootChildForUser: boolean;
}

/** No configured way of sending SIGUSR1 to a root child of another user: the stop signal, the parent-death
 * signal, a --rewrite's target. */
function refuseInspectorSignal(options: ResolvedOptions, user: StartingUser, name: (key: keyof Options) => string): void {
  const why = `expected a signal other than ${INSPECTOR_SIGNAL}, which opens a Node child's inspector (the child runs as root for ${user.name})`;
  if (!deliverable(options.stopSignal, true)) throw new UsageError(name('stopSignal'), options.stopSignal, why);
  if (!deliverable(options.parentDeathSignal, true)) throw new UsageError(name('parentDeathSignal'), options.parentDeathSignal, why);
  for (const [from, to] of Object.entries(options.rewrite)) {
    if (to !== undefined && !deliverable(to, true)) throw new UsageError(name('rewrite'), `${from}:${to}`, why);
  }
}

/** The user angel is root for gives the child only what allowedForUser lets through; the rest comes from a
 * root-owned config file (the admin's word: its env, and the env files it names) or not at all. */
function refuseUserVariables(variables: Readonly<Record<string, string>>, admins: ReadonlySet<string>, user: StartingUser, name: string): void {
  for (const [key, value] of Object.entries(variables)) {
    if (admins.has(key) || allowedForUser(key, value)) continue;
    throw new UsageError(name, `${key}=${value}`, `expected only ${ALLOWED_FOR_USER}, each with a plain name as its value, when angel runs as root for ${user.name} (others belong in a root-owned --config)`);
  }
}

/** What the options add to the child's environment: the --env-file files, read now, in order, then --env (and
 * a config's env) over them. When angel is root for another user, each variable must be one they may give,
 * unless the admin's config gave it. */
function requestedEnvironment(options: ResolvedOptions, forUser: StartingUser | null): Record<string, string> {
  const name = (key: keyof Options): string => nameOf(options, key);
  const adminsFiles = fromConfigFile(options, 'envFile');
  const fromFiles = readEnvFiles(options.envFile, name('envFile'), forUser, adminsFiles);
  if (forUser) {
    refuseUserVariables(options.env, envFromFile(options), forUser, name('env'));
    if (!adminsFiles) refuseUserVariables(fromFiles, new Set(), forUser, name('envFile'));
  }
  return { ...fromFiles, ...options.env };
}

/** The child's environment: the options' variables over angel's own, or, root for another user, over the
 * reduced one with the child's account and a secure PATH. The one place a child's PATH is made. */
function launchEnvironment(options: ResolvedOptions, forUser: StartingUser | null, uid: number, environment: NodeJS.ProcessEnv): Record<string, string> {
  const requested = requestedEnvironment(options, forUser);
  return forUser ? childEnvironmentForRoot(environment, requested, accountOf(uid)) : childEnvironment(environment, requested, options.clearEnv);
}

/** Checks `options` against the system and opens what the child will run. Throws UsageError (2),
 * PermissionError (126) or SpawnError (126/127). `forUser` is the starting user when angel is root for
 * someone else (rootrule.ts). */
export function prepareLaunch(options: ResolvedOptions, forUser: StartingUser | null, environment = process.env): Launch {
  const name = (key: keyof Options): string => nameOf(options, key);
  const identity = resolveIdentity(options.user, options.group, { user: name('user'), group: name('group') });
  const env = launchEnvironment(options, forUser, identity?.uid ?? 0, environment);
  if (forUser) {
    // the child would read and write relative paths there as root: a directory that user controls is theirs
    if (options.cwd !== null) {
      try {
        closeDirectory(openRootOnlyDirectory(options.cwd, forUser));
      } catch (error) {
        asUsageError(error, name('cwd'), options.cwd, 'expected a directory only root can write to');
      }
    }
  }
  // a working directory that is not there is a mistake in the options, not a program that cannot run
  if (options.cwd !== null && !isDirectory(options.cwd)) throw new UsageError(name('cwd'), options.cwd, 'expected a directory that exists');
  const cwd = options.cwd ?? undefined;
  // the limit is read again at every launch: a container resized in place gets a cap to match at its next reload
  const cap = resolveMemoryCap(options.maxMem);
  // a size is held to the least a child uses as it is parsed; a share is known only now
  if (cap !== null && cap.capBytes < MIN_CAP_BYTES) {
    throw new UsageError(name('maxMem'), showCap(options.maxMem), `expected a share that comes to at least 1M, but it is ${cap.capBytes} bytes of ${cap.ofBytes ?? 0}`);
  }
  // resolved in the PATH the child gets, which is where execvp(3) in the child would have looked
  let program = openLockedProgram(options.program, env.PATH, cwd);
  if (!program && forUser) program = openProgram(options.program, env.PATH, cwd);
  try {
    if (forUser && program) checkRootRule(program, forUser);
    checkChildAccess(program?.path ?? options.program, env.PATH, options.cwd, identity && { rights: identity, name: accountOf(identity.uid).name });
  } catch (error) {
    closeProgram(program);
    throw error;
  }
  const rootChildForUser = forUser !== null && (identity?.uid ?? 0) === 0;
  if (forUser && rootChildForUser) refuseInspectorSignal(options, forUser, name);
  return { options, identity, env, program, cap, rootChildForUser };
}

/** Every check a start makes before it spawns, without starting, binding or creating anything (`angel check`),
 * in the order a start makes them and with the same errors: the launch (identity, environment, working
 * directory, lock, root rule), the log file's rule, then the program as the first spawn looks it up. */
export function checkLaunch(options: ResolvedOptions, forUser: StartingUser | null): ResolvedCap | null {
  const launch = prepareLaunch(options, forUser);
  try {
    if (options.logFile !== null) checkLogFile(options.logFile, nameOf(options, 'logFile'), forUser);
    // a launch that opened its program (root for someone else, a locked build) has checked that very file
    if (!launch.program) checkProgram(options.program, launch.env.PATH, options.cwd ?? undefined);
    return launch.cap;
  } finally {
    releaseLaunch(launch);
  }
}

/** What `angel check` can check where the addon does not load (a machine it was not built for): the program,
 * as the first spawn would look it up, and the cap. */
export function checkWithoutAddon(options: ResolvedOptions): ResolvedCap | null {
  const env = launchEnvironment(options, null, 0, process.env);
  checkProgram(options.program, env.PATH, options.cwd ?? undefined);
  return resolveMemoryCap(options.maxMem);
}

/** Releases what a launch holds open (the program's fd), once no spawn will use it. */
export function releaseLaunch(launch: Launch): void {
  closeProgram(launch.program);
}

/** The generation's cgroup (--cgroup); one that cannot be made fails the spawn as a step before exec would (126). */
function cgroupOf(cgroups: CgroupTree | null, number: number, capBytes: number | null, program: string): GenerationCgroup | null {
  try {
    return cgroups?.generation(number, capBytes) ?? null;
  } catch (error) {
    if (!(error instanceof CgroupError)) throw error;
    throw new SpawnError(program, `cgroup: ${error.op} ${error.path}`, error.code, undefined);
  }
}

/** Whether generations get a NOTIFY_SOCKET of their own. */
const wantsNotify = (options: ResolvedOptions): boolean => options.ready.kind === 'notify' || options.watchdog !== null;

/** What every generation of a launch runs: its program, arguments, directory, limits and identity, prepared once
 * (kernel/spawn.ts); `listening`: held sockets are passed from fd 3 (LISTEN_PID is the child's). */
export function launchProgram(launch: Launch, listening: boolean): PreparedSpawn {
  const { options, program, identity } = launch;
  return new PreparedSpawn({
    program: program?.path ?? options.program,
    args: options.args,
    ...(program && { execFd: program.fd, execFdInherit: program.script }),
    ...(options.cwd !== null && { cwd: options.cwd }),
    listenPid: listening,
    rlimits: options.rlimits,
    parentDeathSignal: options.parentDeathSignal,
    watchdogPid: options.watchdog !== null,
    ...(identity && { uid: identity.uid, gid: identity.gid, groups: identity.groups, noNewPrivs: true }),
  });
}

/** What generation `number` is started with: the launch's program, identity and limits, its fds (0, the log
 * pipe or angel's stdout and stderr, the held sockets from 3, the --ready fd pipe last), its NOTIFY_SOCKET, its
 * cgroup (--cgroup) and its environment. */
export function generationSpec(
  launch: Launch,
  number: number,
  io: {
    /** The launch's program (launchProgram), prepared once for all its generations. */
    program: PreparedSpawn;
    baseEnv: Environ;
    sockets: readonly HeldSocket[];
    /** The log pipes (--log-file) the child writes its stdout and stderr into; angel's own stdout and stderr
     * without. */
    outFd: number | undefined;
    errFd: number | undefined;
    sampling: Sampling | null;
    notify: NotifyDirectory | null;
    /** --cgroup: this angel's cgroups; the generation's is made here, for the cap in force. */
    cgroups?: CgroupTree | null;
    capBytes?: number | null;
    /** angel's own memory cgroup, whose OOM kills a generation without a cgroup of its own counts. */
    own?: OwnMemoryLookup | null;
  },
): GenerationSpec {
  const { options, program, identity } = launch;
  const path = program?.path ?? options.program;
  const cgroup = cgroupOf(io.cgroups ?? null, number, io.capBytes ?? null, path);
  const readyPipe = options.ready.kind === 'fd' ? openReadyPipe() : null;
  let notify: NotifySocket | null = null;
  try {
    if (wantsNotify(options) && io.notify) notify = io.notify.open(number, identity && { uid: identity.uid, gid: identity.gid });
  } catch (error) {
    if (readyPipe) closeReadyPipe(readyPipe);
    cgroup?.release();
    const { code, syscall, errno } = error as NodeJS.ErrnoException;
    throw new SpawnError(path, `NOTIFY_SOCKET ${syscall ?? 'mkdir'}`, code ?? 'EIO', errno, (error as Error).message);
  }
  const fds = [0, io.outFd ?? 1, io.errFd ?? 2, ...io.sockets.map((socket) => socket.fd)];
  const perStart: Record<string, string> = { ANGEL_GENERATION: String(number) };
  if (readyPipe) perStart.ANGEL_READY_FD = String(fds.push(readyPipe.writeFd) - 1);
  if (notify) perStart.NOTIFY_SOCKET = notify.path;
  if (options.watchdog !== null) perStart.WATCHDOG_USEC = String(options.watchdog * 1000);
  return {
    number,
    program: io.program,
    start: { env: io.baseEnv.with(perStart), fds, ...(cgroup && { cgroup: cgroup.spawnWith }) },
    ready: options.ready,
    readyPipe,
    readyTimeoutMs: options.readyTimeout,
    sampling: io.sampling,
    cgroup,
    own: io.own ?? null,
    notify,
    watchdogMs: options.watchdog,
    killTimeoutMs: options.killTimeout,
    stopSignal: options.stopSignal,
  };
}

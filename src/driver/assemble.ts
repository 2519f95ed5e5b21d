// One way to put a supervisor together, for the CLI and for supervise(): the launch checked against the
// system, the log pipe, the cgroups (--cgroup) and the held sockets opened by angel, then the driver over them.
import { UsageError } from '../core/errors.js';
import { isPercent, MIN_PROGRAM_BYTES, showCap, watchModeOf } from '../core/memory.js';
import { nameOf, type ResolvedOptions } from '../core/options.js';
import { CgroupRefused, CgroupTree } from '../kernel/cgrouptree.js';
import { OwnMemoryLookup } from '../kernel/ownmemory.js';
import { Instance } from '../kernel/runtime.js';
import type { Orphan } from '../core/orphans.js';
import { LogPipe, type LogFileSettings } from '../kernel/logpipe.js';
import { Reaper } from '../kernel/reaper.js';
import type { StartingUser } from '../kernel/rootrule.js';
import { bindAll } from '../kernel/sockets.js';
import { prepareLaunch, releaseLaunch, type Launch } from './launch.js';
import { Supervisor } from './supervisor.js';

/** --cgroup where the hierarchy is mounted read-only (a Kubernetes pod's /sys/fs/cgroup): said in one warning
 * naming the mount, and --max-mem is watched without cgroups of angel's own (container mode for N%, the tree
 * for a size). Any other refusal (no permission, no memory controller) is the usage error it was. */
function openCgroups(options: ResolvedOptions, warn: (message: string) => void): CgroupTree | null {
  if (!options.cgroup) return null;
  try {
    return CgroupTree.open(warn);
  } catch (error) {
    if (!(error instanceof CgroupRefused) || error.code !== 'EROFS') throw error;
    const instead = isPercent(options.maxMem) ? 'watches the cgroup angel runs in, read only' : 'samples the process tree';
    warn(`--cgroup: the cgroup mount ${error.mount} is read-only (EROFS), so generations get no cgroup of their own here; --max-mem ${instead}`);
    return null;
  }
}

/** Container mode needs room for the program: a cap at or below what angel and the rest of its cgroup already
 * use (plus MIN_PROGRAM_BYTES) would stop every child as it starts. */
function checkHeadroom(options: ResolvedOptions, launch: Launch, lookup: OwnMemoryLookup, cgroups: CgroupTree | null): void {
  const cap = launch.cap;
  if (cap === null || watchModeOf(cap, cgroups !== null) !== 'container') return;
  const own = lookup.get();
  if (own === null) return;
  const used = own.figureBytes();
  if (cap.capBytes >= used + MIN_PROGRAM_BYTES) return;
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  throw new UsageError(nameOf(options, 'maxMem'), showCap(options.maxMem), `expected a cap that leaves the program at least ${mib(MIN_PROGRAM_BYTES)} above what angel and its cgroup already use (${mib(used)} of the limit ${mib(cap.ofBytes ?? 0)}), but it is ${mib(cap.capBytes)}`);
}

/** This angel's runtime instance, made now (a dead angel's leftovers swept); angel runs on without one, said in
 * a warning. */
function openInstance(warn: (message: string) => void): Instance | null {
  try {
    return Instance.acquire();
  } catch (error) {
    warn(`runtime directory: ${(error as Error).message}; a next angel will not find what this one leaves if killed`);
    return null;
  }
}

/** How --log-file is written: the lines' prefixes, the rotation, whose rights open it. */
function logFileSettings(options: ResolvedOptions, path: string, forUser: StartingUser | null): LogFileSettings {
  return {
    path, name: nameOf(options, 'logFile'), rights: forUser, timestamps: options.logTimestamps, streamTag: options.logStreamTag,
    maxBytes: options.logMaxSize, keep: options.logKeep, events: options.logEvents !== 'stderr',
  };
}

/** Throws UsageError (2), PermissionError (126) or SpawnError (126/127) before anything starts. With
 * `subreaper`, angel adopts and reaps the orphans of its children's trees (kernel/reaper.ts). */
export function createSupervisor(options: ResolvedOptions, forUser: StartingUser | null, { subreaper = false } = {}): Supervisor {
  const launch = prepareLaunch(options, forUser);
  let logPipe: LogPipe | null = null;
  let cgroups: CgroupTree | null = null;
  const own = new OwnMemoryLookup();
  let instance: Instance | null = null;
  // what is found while it is put together is said once the supervisor is there, and its listeners
  const early: string[] = [];
  let warn = (message: string): void => void early.push(message);
  try {
    logPipe = options.logFile === null ? null : new LogPipe(logFileSettings(options, options.logFile, forUser));
    cgroups = openCgroups(options, (message) => warn(message));
    checkHeadroom(options, launch, own, cgroups);
    // before the sockets: a dead angel's leftovers may hold them (kernel/runtime.ts)
    instance = openInstance((message) => warn(message));
    const sockets = bindAll(options.listen, options.socketMode, forUser);
    const deps = subreaper ? { reaper: (ownPids: () => readonly number[], onOrphan: (orphan: Orphan) => void) => new Reaper(ownPids, onOrphan) } : {};
    const supervisor = new Supervisor(launch, { sockets, logPipe, deps, cgroups, own, instance });
    for (const message of early) supervisor.warnAtStart(message);
    warn = (message) => supervisor.emit('warning', { message });
    return supervisor;
  } catch (error) {
    releaseLaunch(launch);
    own.close();
    instance?.release();
    void logPipe?.close();
    void cgroups?.close();
    throw error;
  }
}

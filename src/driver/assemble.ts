// One way to put a supervisor together, for the CLI and for supervise(): the launch checked against the
// system, the log pipe, the cgroups (--cgroup) and the held sockets opened by angel, then the driver over them.
import { nameOf, type ResolvedOptions } from '../core/options.js';
import { CgroupTree } from '../kernel/cgrouptree.js';
import { LogPipe } from '../kernel/logfile.js';
import { Reaper } from '../kernel/reaper.js';
import type { StartingUser } from '../kernel/rootrule.js';
import { bindAll } from '../kernel/sockets.js';
import { prepareLaunch, releaseLaunch } from './launch.js';
import { Supervisor } from './supervisor.js';

/** Throws UsageError (2), PermissionError (126) or SpawnError (126/127) before anything starts. With
 * `subreaper`, angel adopts and reaps the orphans of its children's trees (kernel/reaper.ts). */
export function createSupervisor(options: ResolvedOptions, forUser: StartingUser | null, { subreaper = false } = {}): Supervisor {
  const launch = prepareLaunch(options, forUser);
  let logPipe: LogPipe | null = null;
  let cgroups: CgroupTree | null = null;
  let supervisor: Supervisor | null = null;
  try {
    logPipe = options.logFile === null ? null : new LogPipe(options.logFile, nameOf(options, 'logFile'), forUser);
    cgroups = options.cgroup ? CgroupTree.open((message) => supervisor?.emit('warning', { message })) : null;
    const sockets = bindAll(options.listen, options.socketMode, forUser);
    supervisor = new Supervisor(launch, sockets, logPipe, subreaper ? { reaper: (isOwn, onOrphan) => new Reaper(isOwn, onOrphan) } : {}, cgroups);
    return supervisor;
  } catch (error) {
    releaseLaunch(launch);
    void logPipe?.close();
    void cgroups?.close();
    throw error;
  }
}


// What a supervisor is put together from besides its launch (driver/assemble.ts puts it together; tests inject
// their own generations and timers).
import type { LogPipe } from '../kernel/logpipe.js';
import type { CgroupTree } from '../kernel/cgrouptree.js';
import type { OwnMemoryLookup } from '../kernel/ownmemory.js';
import type { Instance } from '../kernel/runtime.js';
import type { HeldSocket } from '../kernel/sockets.js';
import { Generation, type StartGeneration } from './generation.js';
import type { ReaperFactory } from './orphans.js';

/** The spawner, the restart timer and the reaper, injected by tests that drive the supervisor without processes. */
export interface SupervisorDeps {
  startGeneration: StartGeneration;
  /** Reap and adopt orphans (a child subreaper, or PID 1): null leaves them to init. */
  reaper: ReaperFactory | null;
  setTimeout: (fire: () => void, ms: number) => unknown;
  clearTimeout: (timer: unknown) => void;
}

/** What a supervisor is put together from besides its launch (driver/assemble.ts); all optional for tests. */
export interface SupervisorParts {
  sockets?: readonly HeldSocket[];
  logPipe?: LogPipe | null;
  deps?: Partial<SupervisorDeps>;
  /** --cgroup: this angel's cgroups, one per generation. */
  cgroups?: CgroupTree | null;
  /** angel's own memory cgroup, read only, found when first asked for. */
  own?: OwnMemoryLookup | null;
  /** This angel's runtime instance, where its generations are recorded for a next angel's sweep. */
  instance?: Instance | null;
}

export const REAL: SupervisorDeps = {
  startGeneration: (spec) => Generation.start(spec),
  reaper: null,
  setTimeout: (fire, ms) => setTimeout(fire, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};


// This angel's own directory of cgroups (the layout is in cgroup.ts): made at start, after what an angel killed
// with SIGKILL left behind is killed and removed, and taken apart at the end, every generation's cgroup
// first. Where cgroups cannot be made or configured, --cgroup is a usage error naming the path and the errno,
// never a silent fallback to sampling.
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import {
  CgroupError, childCgroups, killAndRemove, makeDir, memoryCgroupOf, readText, removeTree, writeText, type Cgroup,
} from './cgroup.js';
import { GenerationCgroup } from './generationcgroup.js';
import { statFields } from './proctree.js';

const OWN = /^angel\.(\d+)\.(\d+)$/;
const LEAF = 'supervisor';

/** A process's start time in clock ticks since boot (proc(5) stat field 22): with the pid, it names one process
 * for good, as pids are reused. */
function startTime(pid: number | 'self'): string | null {
  return statFields(pid)?.[19] ?? null;
}

const asUsage = (error: unknown): never => {
  if (error instanceof CgroupError) throw new UsageError('--cgroup', error.path, `cannot ${error.op} (${error.code})`);
  throw error;
};

export class CgroupTree {
  readonly version: 1 | 2;
  /** This angel's directory. */
  readonly dir: string;
  readonly #home: Cgroup;
  /** v2: angel moved itself into dir/supervisor, and enabled +memory on its home. */
  #moved = false;
  #enabledOnHome = false;
  /** One per cgroup made or found here and not yet removed (leftovers of dead angels, generations), settled once
   * it is gone or given up on. */
  readonly #pending = new Set<Promise<void>>();
  readonly #warn: (message: string) => void;

  /** Throws UsageError (exit 2) when the cgroups cannot be made here. */
  static open(warn: (message: string) => void = () => {}): CgroupTree {
    const home = memoryCgroupOf();
    if (!home) throw new UsageError('--cgroup', '/proc/self/cgroup', 'expected a memory cgroup that is mounted, got none in');
    try {
      return new CgroupTree(home, warn);
    } catch (error) {
      return asUsage(error);
    }
  }

  private constructor(home: Cgroup, warn: (message: string) => void) {
    this.#home = home;
    this.#warn = warn;
    this.version = home.version;
    this.#sweep();
    this.dir = join(home.dir, `angel.${process.pid}.${startTime('self') ?? '0'}`);
    makeDir(this.dir);
    try {
      if (home.version === 2) this.#delegate();
    } catch (error) {
      this.#undo();
      throw error;
    }
  }

  /** A new cgroup for generation `number`, configured for `capBytes` (null: no cap); its release() kills what is
   * left in it and removes it in the background, and close() waits for that. Throws CgroupError. */
  generation(number: number, capBytes: number | null): GenerationCgroup {
    const dir = join(this.dir, `gen.${number}`);
    let settle!: () => void;
    this.#expect(new Promise<void>((resolve) => (settle = resolve)));
    try {
      return GenerationCgroup.create(this.version, dir, capBytes, (removal) => this.#report(removal, dir).then(settle));
    } catch (error) {
      settle();
      throw error;
    }
  }

  /** Waits until every generation's cgroup is removed (each generation ends before angel does) and every leftover
   * too, at most `boundMs`; then takes this angel's directory apart and, on v2, moves angel back home. */
  async close(boundMs = 15_000): Promise<void> {
    const bound = new Promise<void>((resolve) => setTimeout(resolve, boundMs).unref());
    while (this.#pending.size > 0) {
      const waited = await Promise.race([Promise.all(this.#pending).then(() => true), bound.then(() => false)]);
      if (!waited) break;
    }
    if (!this.#undo()) this.#warn(`cgroup ${this.dir}: could not be removed (angel could not leave it, or something stayed in it)`);
  }

  #expect(removed: Promise<void>): void {
    this.#pending.add(removed);
    void removed.then(() => this.#pending.delete(removed));
  }

  #report(removal: Promise<boolean>, dir: string): Promise<void> {
    return removal.then((done) => {
      if (!done) this.#warn(`cgroup ${dir}: processes still in it after 10 s; left in place`);
    });
  }

  /** The directories of angels that are gone (killed with SIGKILL: nothing of theirs ran to clean up), with
   * whatever still runs in them (a daemon that escaped its parent-death signal). */
  #sweep(): void {
    for (const name of childCgroups(this.#home.dir)) {
      const match = OWN.exec(name);
      if (!match || startTime(Number(match[1])) === match[2]) continue;
      const dir = join(this.#home.dir, name);
      this.#expect(this.#report(killAndRemove(this.#home.version, dir), dir));
    }
  }

  /** v2: generations get the memory controller only from a parent that has no process of its own, so angel moves
   * into a leaf beside them, unless its home is the root (exempt from the rule). */
  #delegate(): void {
    const controllers = readText(join(this.#home.dir, 'cgroup.controllers')).split(/\s+/);
    if (!controllers.includes('memory')) {
      throw new CgroupError('find the memory controller in', join(this.#home.dir, 'cgroup.controllers'), 'ENOENT');
    }
    const isRoot = this.#home.dir === this.#home.mount;
    if (!isRoot) {
      makeDir(join(this.dir, LEAF));
      writeText(join(this.dir, LEAF, 'cgroup.procs'), String(process.pid));
      this.#moved = true;
    }
    const home = join(this.#home.dir, 'cgroup.subtree_control');
    if (!readText(home).split(/\s+/).includes('memory')) {
      writeText(home, '+memory');
      this.#enabledOnHome = true;
    }
    writeText(join(this.dir, 'cgroup.subtree_control'), '+memory');
  }

  /** What #delegate did, undone in reverse, and this angel's directory removed; false when something stayed. */
  #undo(): boolean {
    const steps: Array<() => void> = [];
    if (this.version === 2) {
      steps.push(() => writeText(join(this.dir, 'cgroup.subtree_control'), '-memory'));
      if (this.#enabledOnHome) steps.push(() => writeText(join(this.#home.dir, 'cgroup.subtree_control'), '-memory'));
      if (this.#moved) steps.push(() => writeText(join(this.#home.dir, 'cgroup.procs'), String(process.pid)));
    }
    let done = true;
    for (const step of steps) {
      try {
        step();
      } catch {
        done = false;
      }
    }
    return removeTree(this.dir) && done;
  }
}

// This angel's own directory of cgroups (the layout is in cgroup.ts): made at start, after what an angel killed
// with SIGKILL left behind is killed and removed, and taken apart at the end, every generation's cgroup
// first. Where cgroups cannot be made or configured, --cgroup is a usage error naming the path and the errno,
// never a silent fallback to sampling.
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import {
  CgroupError, childCgroups, killAndRemove, makeDir, memoryCgroupOf, readText, removeTree, writeText, type Cgroup,
} from './cgroup.js';
import { GenerationCgroup } from './generationcgroup.js';
import { lockDirectory } from './dirlock.js';
import { randomHex } from './random.js';

const PREFIX = 'angel.';
const LEAF = 'supervisor';

/** --cgroup cannot have its cgroups here: the usage error, with the errno and the mount, so a read-only mount
 * (a Kubernetes pod's) can be told from a refusal. */
export class CgroupRefused extends UsageError {
  constructor(error: CgroupError, readonly mount: string) {
    super('--cgroup', error.path, `cannot ${error.op} (${error.code})`);
    this.code = error.code;
  }

  readonly code: string;
}

const asUsage = (error: unknown, mount: string): never => {
  if (error instanceof CgroupError) throw new CgroupRefused(error, mount);
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
  /** The lock on this angel's directory, held for its whole life. */
  #lockFd = -1;

  /** Throws UsageError (exit 2) when the cgroups cannot be made here. */
  static open(warn: (message: string) => void = () => {}): CgroupTree {
    const home = memoryCgroupOf();
    if (!home) throw new UsageError('--cgroup', '/proc/self/cgroup', 'expected a memory cgroup that is mounted, got none in');
    try {
      return new CgroupTree(home, warn);
    } catch (error) {
      return asUsage(error, home.mount);
    }
  }

  private constructor(home: Cgroup, warn: (message: string) => void) {
    this.#home = home;
    this.#warn = warn;
    this.version = home.version;
    this.#sweep();
    this.dir = join(home.dir, `${PREFIX}${randomHex(8)}`);
    makeDir(this.dir);
    try {
      // made, then locked: a sweep that finds it unlocked in between takes it for a dead angel's and removes
      // an empty directory, which makes the lock fail with ENOENT here: a usage error, never a mix-up
      this.#lockFd = lockDirectory(this.dir, true) as number;
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
   * whatever still runs in them (a daemon that escaped its parent-death signal): those whose lock this angel
   * can take. A living angel's, in this namespace or another, holds its own. */
  #sweep(): void {
    for (const name of childCgroups(this.#home.dir)) {
      if (!name.startsWith(PREFIX)) continue;
      const dir = join(this.#home.dir, name);
      let fd: number | null;
      try {
        fd = lockDirectory(dir, false);
      } catch {
        continue; // gone meanwhile
      }
      if (fd === null) continue;
      const held = fd;
      this.#expect(this.#report(killAndRemove(this.#home.version, dir), dir).finally(() => closeSync(held)));
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
    const removed = removeTree(this.dir) && done;
    if (this.#lockFd >= 0) closeSync(this.#lockFd);
    this.#lockFd = -1;
    return removed;
  }
}

// One generation's cgroup: made and configured before the spawn (the child is in it from its first instruction),
// read for its working set, watched for the kernel's notices, signalled, killed and removed. The files:
//
//   v1 (cgroup-v1/memory.rst)          v2 (cgroup-v2.rst)
//   memory.usage_in_bytes              memory.current                  usage, page cache included
//   memory.stat total_inactive_file    memory.stat inactive_file       the cache the kernel reclaims first
//   memory.limit_in_bytes = 1.5x cap   memory.max = 1.5x cap           the hard ceiling, enforced by the kernel
//   cgroup.event_control threshold     memory.high = cap               the event at the cap: an eventfd (v1), or
//     on usage at the cap                + memory.events changes         memory.events' file-modified notice (v2)
//   memory.oom_control oom_kill        memory.events oom_kill          the kernel's OOM kills (memory.oom.group
//     (and an eventfd notice)                                          = 1 on v2: the whole cgroup goes at once)
//
// A notice only says "look now": what counts (the working set, so a file read's cache is not an overrun) is
// decided on the numbers read then, as on every periodic sample.
import { closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:fs';
import { ceilingBytes, earlyThreshold, nextThreshold, statField, unreclaimable } from '../core/memory.js';
import { CgroupError, killAndRemove, makeDir, openDir, openFile, pidsAt, removeTree, signalAll, writeText, type CgroupVersion } from './cgroup.js';
import type { FdWatch } from './syscalls.js';
import * as syscalls from './syscalls.js';

const FILES = {
  1: { usage: 'memory.usage_in_bytes', oom: 'memory.oom_control' },
  2: { usage: 'memory.current', oom: 'memory.events' },
} as const;

export interface CgroupReading {
  usageBytes: number;
  /** What the kernel would OOM-kill on (core/memory.ts's unreclaimable): clean cache, active or not, left out. */
  figureBytes: number;
  pids: number[];
}

/** v1 thresholds a generation may add after cache-only notices; past them, the periodic sample alone. */
const MAX_THRESHOLDS = 32;

export class GenerationCgroup {
  readonly #fds: number[] = [];
  readonly #usageFd: number;
  readonly #statFd: number;
  readonly #oomFd: number;
  /** v1: the eventfd of the threshold and OOM notices. */
  readonly #eventFd: number = -1;
  /** What the child is spawned with: the directory (v2) or cgroup.procs (v1); closed once it has started. */
  #spawnFd: number;
  /** Read at every sample (pidsAt): the path is made once. */
  readonly #procsPath: string;
  #watch: FdWatch | null = null;
  #buffer = Buffer.alloc(8192);
  #released = false;
  readonly #capBytes: number | null;
  #thresholds = 0;
  #armedAt = 0;
  #onNotice: (() => void) | null = null;

  /** Makes and configures the cgroup; throws CgroupError (and leaves nothing behind). `onRelease` is handed its
   * removal, once release() is called. */
  static create(version: CgroupVersion, dir: string, capBytes: number | null, onRelease: (removal: Promise<boolean>) => void): GenerationCgroup {
    makeDir(dir);
    try {
      return new GenerationCgroup(version, dir, capBytes, onRelease);
    } catch (error) {
      removeTree(dir);
      throw error;
    }
  }

  private constructor(
    readonly version: CgroupVersion,
    readonly dir: string,
    capBytes: number | null,
    readonly onRelease: (removal: Promise<boolean>) => void,
  ) {
    const files = FILES[version];
    this.#capBytes = capBytes;
    this.#procsPath = join(dir, 'cgroup.procs');
    try {
      this.#usageFd = this.#open(files.usage);
      this.#statFd = this.#open('memory.stat');
      this.#oomFd = this.#open(files.oom);
      if (version === 2) {
        if (capBytes !== null) {
          writeText(join(dir, 'memory.high'), String(capBytes));
          writeText(join(dir, 'memory.max'), String(ceilingBytes(capBytes)));
        }
        writeText(join(dir, 'memory.oom.group'), '1');
        this.#spawnFd = openDir(dir);
      } else {
        if (capBytes !== null) writeText(join(dir, 'memory.limit_in_bytes'), String(ceilingBytes(capBytes)));
        this.#eventFd = syscalls.eventfd();
        this.#fds.push(this.#eventFd);
        // every notice on one eventfd: each only means "read the numbers now"; the early threshold first, since
        // a threshold below one armed before is not armed
        if (capBytes !== null) {
          this.#threshold(earlyThreshold(capBytes));
          this.#threshold(nextThreshold(capBytes));
        }
        writeText(join(dir, 'cgroup.event_control'), `${this.#eventFd} ${this.#oomFd}`);
        this.#spawnFd = openFile(join(dir, 'cgroup.procs'), constants.O_WRONLY);
      }
      this.#fds.push(this.#spawnFd);
    } catch (error) {
      this.#closeFds();
      throw error instanceof CgroupError ? error : new CgroupError('eventfd', dir, (error as NodeJS.ErrnoException).code ?? 'EIO');
    }
  }

  #open(name: string): number {
    const fd = openFile(join(this.dir, name), constants.O_RDONLY);
    this.#fds.push(fd);
    return fd;
  }

  /** What spawnChild needs to start the child in this cgroup. */
  get spawnWith(): { dirFd: number } | { procsFd: number } {
    return this.version === 2 ? { dirFd: this.#spawnFd } : { procsFd: this.#spawnFd };
  }

  /** After the spawn: no later child joins this cgroup, and the fd is not held for the generation's life. */
  spawned(): void {
    this.#closeFd(this.#spawnFd);
    this.#spawnFd = -1;
  }

  /** The working set of every process in the cgroup, whatever its parentage, and their pids. On v1, a reading
   * past the cap that is mostly cache sets the next threshold (nextThreshold), so the notices go on. */
  read(): CgroupReading {
    const usageBytes = Number(this.#text(this.#usageFd));
    const reading = { usageBytes, figureBytes: unreclaimable(this.version, usageBytes, this.#text(this.#statFd)), pids: pidsAt(this.#procsPath) };
    if (this.version === 1 && this.#capBytes !== null && this.#thresholds < MAX_THRESHOLDS && !this.#released) {
      const armed = this.#threshold(nextThreshold(this.#capBytes, reading));
      // a usage already past it when it was armed crosses nothing: the notice it will not give comes now
      if (armed !== null && Number(this.#text(this.#usageFd)) >= armed && this.#onNotice) setImmediate(this.#onNotice);
    }
    return reading;
  }

  /** Arms a v1 threshold above those armed before; returns it, or null when none was armed. */
  #threshold(bytes: number | null): number | null {
    if (bytes === null || bytes <= this.#armedAt) return null;
    writeText(join(this.dir, 'cgroup.event_control'), `${this.#eventFd} ${this.#usageFd} ${bytes}`);
    this.#armedAt = bytes;
    this.#thresholds++;
    return bytes;
  }

  /** How many processes of the cgroup the kernel's OOM killer has killed. */
  oomKills(): number {
    return statField(this.#text(this.#oomFd), 'oom_kill') ?? 0;
  }

  /** Calls `onNotice` on the kernel's every notice: a threshold crossed or an OOM (v1), memory.events changed (v2). */
  watch(onNotice: () => void): void {
    this.#onNotice = () => {
      if (!this.#released) onNotice();
    };
    const fd = this.version === 1 ? this.#eventFd : this.#oomFd;
    this.#watch = syscalls.watchFd(fd, this.version === 2, () => {
      // consumed, or the level-triggered poll calls again at once: the eventfd's count, or kernfs's changed flag,
      // which a read of the file clears
      if (this.version === 1) {
        try {
          readSync(fd, this.#buffer, 0, 8, null);
        } catch {}
      } else {
        this.#text(fd);
      }
      onNotice();
    });
  }

  /** Each signal in turn to every process of the cgroup, from one read of cgroup.procs. */
  signalAll(signals: ReadonlyArray<NodeJS.Signals | number>): void {
    signalAll(this.dir, signals);
  }

  /** SIGKILL for everything in the cgroup: cgroup.kill (v2), or each pid of cgroup.procs (v1; remove() goes on
   * until none is left). */
  kill(): void {
    if (this.version === 2) {
      try {
        writeText(join(this.dir, 'cgroup.kill'), '1');
        return;
      } catch {}
    }
    this.signalAll(['SIGKILL']);
  }

  unwatch(): void {
    if (this.#watch) syscalls.unwatchFd(this.#watch);
    this.#watch = null;
  }

  /** The generation is over: stops watching, kills whatever is left, and removes the cgroup once it is empty. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.unwatch();
    this.onRelease(killAndRemove(this.version, this.dir).finally(() => this.#closeFds()));
  }

  #text(fd: number): string {
    const length = readSync(fd, this.#buffer, 0, this.#buffer.length, 0);
    return this.#buffer.toString('latin1', 0, length);
  }

  #closeFd(fd: number): void {
    const index = this.#fds.indexOf(fd);
    if (index < 0) return;
    this.#fds.splice(index, 1);
    closeSync(fd);
  }

  #closeFds(): void {
    for (const fd of this.#fds.splice(0)) closeSync(fd);
  }
}

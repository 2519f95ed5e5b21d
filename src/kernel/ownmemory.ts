// The memory cgroup angel itself runs in, read only: a container's (a pod's /sys/fs/cgroup is mounted read-only,
// and its one OOM kill takes every process in it since memory.oom.group, angel included). Its limit (--max-mem
// N% is a share of it, re-read as the container is resized), the figure the kernel would OOM-kill on (what
// core/memory.ts counts, angel's own memory in it, one read of two files however many processes), and the
// OOM kills the kernel made in it (an `oom` exit reason in every mode). The cgroup read is the one whose limit
// binds: the lowest limit on the way up, as far as the mount shows.
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isPercent, limitOf, resolveCap, statField, unreclaimable, type MemoryCap, type ResolvedCap } from '../core/memory.js';
import { memoryCgroupOf, type Cgroup } from './cgroup.js';

const FILES = {
  1: { usage: 'memory.usage_in_bytes', limit: 'memory.limit_in_bytes', oom: 'memory.oom_control' },
  2: { usage: 'memory.current', limit: 'memory.max', oom: 'memory.events' },
} as const;

/** The cgroups from `cgroup`'s own up to its mount's root, as far as they have memory files. */
function upward(cgroup: Cgroup): string[] {
  const dirs: string[] = [];
  for (let dir = cgroup.dir; dir.startsWith(cgroup.mount) && dir.length >= cgroup.mount.length; dir = join(dir, '..')) {
    dirs.push(dir);
    if (dir === cgroup.mount) break;
  }
  return dirs;
}

export class OwnMemory {
  readonly version: 1 | 2;
  readonly #cgroup: Cgroup;
  /** The cgroups from angel's own up (upward) with their limit files, found once: the limit is read every second. */
  readonly #upward: ReadonlyArray<{ dir: string; limitPath: string }>;
  /** angel's own cgroup's OOM kill count file: read at every generation's start, a crash loop's restart path
   * included. */
  readonly #oomPath: string;
  /** The cgroup whose limit binds (angel's own when none is set). */
  #dir = '';
  #usageFd = -1;
  #statFd = -1;
  #buffer = Buffer.alloc(16 * 1024);
  /** The files read again and again, kept open by path (-1: there is none, as a root's or a cgroup's without the
   * controller has no limit file): each cgroup's limit on the way up (read every second a generation is sampled:
   * a container may be resized) and the OOM kill count. */
  readonly #kept = new Map<string, number>();

  /** angel's own memory cgroup, or the one given (a test lays out v2's files in a directory); null when none is
   * mounted. */
  static find(cgroup: Cgroup | null = memoryCgroupOf()): OwnMemory | null {
    if (cgroup === null) return null;
    try {
      return new OwnMemory(cgroup);
    } catch {
      return null; // no memory files to read there
    }
  }

  private constructor(cgroup: Cgroup) {
    this.#cgroup = cgroup;
    this.#upward = upward(cgroup).map((dir) => ({ dir, limitPath: join(dir, FILES[cgroup.version].limit) }));
    this.#oomPath = join(cgroup.dir, FILES[cgroup.version].oom);
    this.version = cgroup.version;
    this.#bind(this.#binding().dir);
  }

  /** Where the files are read. */
  get dir(): string {
    return this.#dir;
  }

  /** The lowest limit on the way up and the cgroup that sets it, read now. */
  #binding(): { dir: string; limit: number | null } {
    let best: { dir: string; limit: number | null } = { dir: this.#cgroup.dir, limit: null };
    for (const { dir, limitPath } of this.#upward) {
      const text = this.#keptText(limitPath);
      const limit = text === null ? null : limitOf(text);
      if (limit !== null && (best.limit === null || limit < best.limit)) best = { dir, limit };
    }
    return best;
  }

  /** A kept file's text read now from its start, or null when there is no such file or it cannot be read. */
  #keptText(path: string): string | null {
    let fd = this.#kept.get(path);
    if (fd === undefined) {
      try {
        fd = openSync(path, constants.O_RDONLY);
      } catch {
        fd = -1;
      }
      this.#kept.set(path, fd);
    }
    if (fd < 0) return null;
    try {
      return this.#text(fd);
    } catch {
      return null;
    }
  }

  #bind(dir: string): void {
    if (dir === this.#dir) return;
    const usage = openSync(join(dir, FILES[this.version].usage), constants.O_RDONLY);
    let stat: number;
    try {
      stat = openSync(join(dir, 'memory.stat'), constants.O_RDONLY);
    } catch (error) {
      closeSync(usage);
      throw error;
    }
    this.close();
    [this.#dir, this.#usageFd, this.#statFd] = [dir, usage, stat];
  }

  /** The memory limit that binds angel, read now (a container resized in place moves it), or null. The files
   * read follow it to the cgroup that sets it. */
  limitBytes(): number | null {
    const { dir, limit } = this.#binding();
    try {
      this.#bind(dir);
    } catch {}
    return limit;
  }

  /** What the kernel would OOM-kill on in the binding cgroup (core/memory.ts's unreclaimable). */
  figureBytes(): number {
    return unreclaimable(this.version, Number(this.#text(this.#usageFd)), this.#text(this.#statFd));
  }

  /** The OOM kills the kernel made in angel's own cgroup so far (v1 memory.oom_control, v2 memory.events). */
  oomKills(): number {
    const text = this.#keptText(this.#oomPath);
    return text === null ? 0 : (statField(text, 'oom_kill') ?? 0);
  }

  close(): void {
    for (const fd of [this.#usageFd, this.#statFd, ...this.#kept.values()]) if (fd >= 0) closeSync(fd);
    this.#usageFd = this.#statFd = -1;
    this.#kept.clear();
  }

  #text(fd: number): string {
    const length = readSync(fd, this.#buffer, 0, this.#buffer.length, 0);
    return this.#buffer.toString('latin1', 0, length);
  }
}

/** angel's own memory cgroup, found (OwnMemory.find) at the first ask and kept. What asks before the first spawn
 * is only what needs it there (container mode's headroom and figure, an N% cap's limit); without those, the
 * first ask is a generation's count of OOM kills, read after its spawn: the search (/proc/self/cgroup, the
 * mounts, the limits up the tree) was 0.6 ms of every launch's way to its first spawn. */
export class OwnMemoryLookup {
  #found: OwnMemory | null | undefined;

  get(): OwnMemory | null {
    if (this.#found === undefined) this.#found = OwnMemory.find();
    return this.#found;
  }

  /** Closes what was found; a later ask finds nothing. */
  close(): void {
    this.#found?.close();
    this.#found = null;
  }
}

/** The machine's memory (MemTotal of /proc/meminfo), what N% is of where no cgroup sets a limit. */
function machineMemoryBytes(): number {
  const kib = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'latin1'))?.[1];
  return Number(kib ?? 0) * 1024;
}

/** --max-mem in bytes and where they come from: a size as given; N% of the limit that binds angel's own cgroup,
 * read now (through `own` when given), or of the machine's memory where none is set. */
export function resolveMemoryCap(cap: MemoryCap | null, own?: OwnMemory | null): ResolvedCap | null {
  if (cap === null) return null;
  if (!isPercent(cap)) return resolveCap(cap, null, 0);
  const reader = own === undefined ? OwnMemory.find() : own;
  try {
    const limit = reader?.limitBytes() ?? null;
    // /proc/meminfo only where no limit binds: with one, this runs every second a generation is sampled
    return resolveCap(cap, limit, limit === null ? machineMemoryBytes() : 0);
  } finally {
    if (own === undefined) reader?.close();
  }
}

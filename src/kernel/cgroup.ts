// Where angel's memory cgroup is, and the files of the cgroups angel makes for its generations: all of it plain
// files under the cgroup mounts, read and written here and nowhere else. What the numbers mean is
// core/memory.ts's; angel's own cgroup, read only, is ownmemory.ts's.
//
// The layout: under the cgroup angel was started in (its home), one directory per angel, `angel.<random id>`,
// locked by its angel for its whole life (flock(2): a later angel, in whatever PID namespace, removes only what
// it can lock), and in it one cgroup per generation, `gen.<n>`. cgroup v2 lets no process stay in a cgroup that
// hands controllers to its children (the no-internal-process rule, cgroup-v2.rst), so there angel first moves
// itself into a leaf of its own, `angel.<id>/supervisor`, then enables +memory on the way down, as container
// init systems do. angel writes limits only on the generations' cgroups, never on its home or above it.
import { closeSync, constants, openSync, readdirSync, readFileSync, readSync, rmdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

/** A memory cgroup: which hierarchy and where its directory is. */
export interface Cgroup {
  version: CgroupVersion;
  /** The hierarchy's mount point (the root of what angel can see of it). */
  mount: string;
  dir: string;
}

interface Mount {
  root: string;
  point: string;
  type: string;
  options: string[];
}

/** mountinfo's fields (proc(5)); octal escapes (\040) in paths undone. */
function parseMounts(text: string): Mount[] {
  const unescape = (path: string): string => path.replace(/\\([0-7]{3})/g, (_, code: string) => String.fromCharCode(parseInt(code, 8)));
  return text.split('\n').filter(Boolean).map((line) => {
    const [before = '', after = ''] = line.split(' - ');
    const fields = before.split(' ');
    const [type = '', , superOptions = ''] = after.split(' ');
    return { root: unescape(fields[3] ?? ''), point: unescape(fields[4] ?? ''), type, options: superOptions.split(',') };
  });
}

function within(mount: Mount, path: string): string | null {
  if (mount.root === '/') return join(mount.point, path);
  if (path === mount.root || path.startsWith(`${mount.root}/`)) return join(mount.point, path.slice(mount.root.length));
  return null;
}

/** The memory cgroup of a process, from its /proc/<pid>/cgroup and mountinfo: the v1 memory hierarchy where it is
 * mounted (the memory controller is there, not in v2), else the v2 hierarchy. Null when neither is mounted. */
export function parseMemoryCgroup(cgroupText: string, mountinfoText: string): Cgroup | null {
  const mounts = parseMounts(mountinfoText);
  const lines = cgroupText.split('\n').filter(Boolean).map((line) => {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    return { id: line.slice(0, first), controllers: line.slice(first + 1, second).split(','), path: line.slice(second + 1) };
  });
  const v1 = lines.find((line) => line.controllers.includes('memory'));
  if (v1) {
    for (const mount of mounts.filter((m) => m.type === 'cgroup' && m.options.includes('memory'))) {
      const dir = within(mount, v1.path);
      if (dir !== null) return { version: 1, mount: mount.point, dir };
    }
  }
  const v2 = lines.find((line) => line.id === '0' && line.controllers.join('') === '');
  if (v2) {
    for (const mount of mounts.filter((m) => m.type === 'cgroup2')) {
      const dir = within(mount, v2.path);
      if (dir !== null) return { version: 2, mount: mount.point, dir };
    }
  }
  return null;
}

export function memoryCgroupOf(pid: number | 'self' = 'self'): Cgroup | null {
  try {
    return parseMemoryCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
  } catch {
    return null;
  }
}

// ---- files ----

/** A cgroup file operation that failed: the operation, the path and the errno name. */
export class CgroupError extends Error {
  constructor(readonly op: string, readonly path: string, readonly code: string) {
    super(`${op} ${path}: ${code}`);
  }
}

function attempt<T>(op: string, path: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw new CgroupError(op, path, (error as NodeJS.ErrnoException).code ?? 'EIO');
  }
}

export const readText = (path: string): string => attempt('read', path, () => readFileSync(path, 'utf8'));
export const writeText = (path: string, text: string): void => attempt('write', path, () => writeFileSync(path, text));
export const makeDir = (path: string): void => attempt('mkdir', path, () => mkdirSync(path));
/** Node opens every file close-on-exec. */
export const openFile = (path: string, flags: number): number => attempt('open', path, () => openSync(path, flags));
export const openDir = (path: string): number => openFile(path, constants.O_RDONLY | constants.O_DIRECTORY);

/** One buffer for every cgroup.procs read: the generation's sampler reads it at every check. */
const procsBuffer = Buffer.alloc(8192);

/** The pids of a cgroup.procs file, by its path; none once the cgroup is gone. Opened afresh each time: v1 keeps
 * the pid list an open file read last (for a second after) and serves it again to a read from the start, stale. */
export function pidsAt(procsPath: string): number[] {
  let fd: number;
  try {
    fd = openSync(procsPath, 'r');
  } catch {
    return [];
  }
  let text = '';
  try {
    for (let offset = 0, length; (length = readSync(fd, procsBuffer, 0, procsBuffer.length, offset)) > 0; offset += length) {
      text += procsBuffer.toString('latin1', 0, length);
    }
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
  const pids: number[] = [];
  for (const line of text.split('\n')) if (line !== '') pids.push(Number(line));
  return pids;
}

/** The pids in a cgroup (pidsAt its cgroup.procs). */
export function pidsIn(dir: string): number[] {
  return pidsAt(join(dir, 'cgroup.procs'));
}

/** Each signal in turn to every process of a cgroup (SIGTERM then SIGCONT to each: one read of cgroup.procs). */
export function signalAll(dir: string, signals: ReadonlyArray<NodeJS.Signals | number>): void {
  for (const pid of pidsIn(dir)) {
    try {
      for (const signal of signals) process.kill(pid, signal);
    } catch {
      // ESRCH: it ended meanwhile
    }
  }
}

/** Child cgroups (directories) of a cgroup. */
export function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return [];
  }
}

/** Not unref'd: angel stays until its cgroups are gone. */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills every process in a cgroup and in those below it, waits until they are gone and removes them, deepest
 * first. v2 kills a whole subtree with one write to cgroup.kill; v1 has no such file, so every pid in each
 * cgroup.procs is SIGKILLed again and again until none is left (a fork between the read and the kill adds a pid
 * the next round finds). Resolves false when something was still there after `timeoutMs`. */
export async function killAndRemove(version: CgroupVersion, dir: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    const left = killRound(version, dir);
    if (left === 0 && removeTree(dir)) return true;
    if (Date.now() > deadline) return false;
    await sleep(pause);
  }
}

/** One round of killing; returns how many processes were found. */
function killRound(version: CgroupVersion, dir: string): number {
  let found = 0;
  for (const child of childCgroups(dir)) found += killRound(version, join(dir, child));
  const pids = pidsIn(dir);
  if (pids.length > 0 && version === 2) {
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
    } catch {
      signalAll(dir, ['SIGKILL']); // before 5.14
    }
  } else if (pids.length > 0) {
    signalAll(dir, ['SIGKILL']);
  }
  return found + pids.length;
}

/** rmdir, deepest first; false while one is busy (a dying process still in it). */
export function removeTree(dir: string): boolean {
  for (const child of childCgroups(dir)) if (!removeTree(join(dir, child))) return false;
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

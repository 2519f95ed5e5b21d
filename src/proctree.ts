// Reads a process tree and its resident memory straight from /proc (see DESIGN.md for why not pidusage):
// children from /proc/<pid>/task/<tid>/children, RSS and thread count from /proc/<pid>/stat (proc(5)).
// A process may vanish between two reads; it then simply does not count.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';

// One buffer for every read: the sampler runs every 100 ms for days, and readFileSync's fstat, extra read
// and fresh Buffer per file cost it several times the system calls and a steady stream of garbage.
const buffer = Buffer.alloc(64 * 1024);

function readOrNull(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    // these are seq_files: a read shorter than asked is the end, so one read is the usual whole cost
    let length = readSync(fd, buffer, 0, buffer.length, null);
    while (length === buffer.length) {
      const more = readSync(fd, buffer, 0, 0, null);
      if (more === 0) break;
      length += more;
    }
    return buffer.toString('latin1', 0, Math.min(length, buffer.length));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export interface ProcStat {
  /** R, S, D, Z, T, … */
  state: string;
  threads: number;
  residentPages: number;
}

type Reader = (path: string) => string | null;

/** The fields of /proc/<pid>/stat that angel needs, or null when the process is gone. */
export function readStat(pid: number, read: Reader = readOrNull): ProcStat | null {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return null;
  // the command name may hold spaces and parentheses: fields start after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', threads: Number(fields[17]) || 1, residentPages: Number(fields[21]) || 0 };
}

/** Every thread's children (a thread other than the main one can fork too); one file when single-threaded. */
export function childrenOf(pid: number, threads = 2, read: Reader = readOrNull): number[] {
  let tids: string[];
  if (threads === 1) {
    tids = [String(pid)];
  } else {
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
  }
  const children: number[] = [];
  for (const tid of tids) {
    const list = read(`/proc/${pid}/task/${tid}/children`);
    if (!list) continue;
    for (const child of list.split(' ')) if (child.trim()) children.push(Number(child));
  }
  return children;
}

export interface TreeSample {
  pids: number[];
  rssBytes: number;
}

/** The root and all its descendants (including those that left its process group), and their summed RSS. */
export function sampleTree(root: number, read: Reader = readOrNull): TreeSample {
  const pids: number[] = [];
  const pending = [root];
  const seen = new Set<number>();
  let pages = 0;
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const stat = readStat(pid, read);
    if (!stat) continue;
    pids.push(pid);
    pages += stat.residentPages;
    pending.push(...childrenOf(pid, stat.threads, read));
  }
  return { pids, rssBytes: pages * PAGE_SIZE };
}

/**
 * Samples one tree again and again with its /proc files kept open: a pread at offset 0 makes a seq_file
 * generate afresh, so a sample costs one system call per file instead of three. An open /proc/<pid> file
 * stays bound to the process it was opened for, so a reused pid reads as gone (ESRCH) and is reopened.
 */
export class TreeReader {
  #fds = new Map<string, number>();
  #used = new Set<string>();

  sample(root: number): TreeSample {
    this.#used.clear();
    const sample = sampleTree(root, this.#read);
    for (const [path, fd] of this.#fds) {
      if (this.#used.has(path)) continue;
      closeSync(fd);
      this.#fds.delete(path);
    }
    return sample;
  }

  close(): void {
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }

  #read = (path: string): string | null => {
    this.#used.add(path);
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd = this.#fds.get(path);
      if (fd === undefined) {
        try {
          fd = openSync(path, 'r');
        } catch {
          return null;
        }
        this.#fds.set(path, fd);
      }
      try {
        return buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0));
      } catch {
        closeSync(fd); // the process it was opened for is gone: try a fresh open once
        this.#fds.delete(path);
      }
    }
    return null;
  };
}

export function treePids(root: number): number[] {
  return sampleTree(root).pids;
}

/** The page size, from this process's own stat and status: Node has no sysconf(_SC_PAGESIZE). */
function detectPageSize(): number {
  const vmRssKiB = Number(/VmRSS:\s+(\d+)/.exec(readOrNull('/proc/self/status') ?? '')?.[1] ?? 0);
  const pages = readStat(process.pid)?.residentPages ?? 0;
  if (!vmRssKiB || !pages) return 4096;
  // the two reads are a moment apart, so round to the nearest power of two
  return 2 ** Math.round(Math.log2((vmRssKiB * 1024) / pages));
}

export const PAGE_SIZE = detectPageSize();

/** The state letter from /proc/<pid>/stat, or null when the pid is gone. */
export function processState(pid: number): string | null {
  return readStat(pid)?.state ?? null;
}

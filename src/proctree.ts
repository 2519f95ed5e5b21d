// Reads a process tree and its resident memory straight from /proc (see DESIGN.md for why not pidusage):
// children from /proc/<pid>/task/<tid>/children, RSS from /proc/<pid>/statm. A process may vanish between
// two reads; it then simply does not count.
import { readdirSync, readFileSync } from 'node:fs';

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** Every tid's children (a thread other than the main one can fork too), following /proc(5). */
export function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tids) {
    const list = readOrNull(`/proc/${pid}/task/${tid}/children`);
    if (!list) continue;
    for (const child of list.split(' ')) if (child.trim()) children.push(Number(child));
  }
  return children;
}

/** The root and all its descendants, including those that left its process group or session. */
export function treePids(root: number): number[] {
  const pids: number[] = [];
  const pending = [root];
  const seen = new Set<number>();
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    pids.push(pid);
    pending.push(...childrenOf(pid));
  }
  return pids;
}

/** Resident pages of a process (statm's second field), or 0 if it is gone. */
export function residentPages(pid: number): number {
  const statm = readOrNull(`/proc/${pid}/statm`);
  if (!statm) return 0;
  return Number(statm.split(' ', 2)[1]) || 0;
}

/** The page size, from this process's own statm and status: Node has no sysconf(_SC_PAGESIZE). */
function detectPageSize(): number {
  const status = readOrNull('/proc/self/status') ?? '';
  const vmRssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const pages = residentPages(process.pid);
  if (!vmRssKiB || !pages) return 4096;
  // the two reads are a moment apart, so round to the nearest power of two
  return 2 ** Math.round(Math.log2((vmRssKiB * 1024) / pages));
}

export const PAGE_SIZE = detectPageSize();

/** One state letter from /proc/<pid>/stat (R, S, D, Z, T, …), or null when the pid is gone. */
export function processState(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (!stat) return null;
  return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) || null;
}

export interface TreeSample {
  pids: number[];
  rssBytes: number;
}

export function sampleTree(root: number): TreeSample {
  const pids = treePids(root);
  let pages = 0;
  for (const pid of pids) pages += residentPages(pid);
  return { pids, rssBytes: pages * PAGE_SIZE };
}

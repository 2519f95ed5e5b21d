// Pure: what counts as a generation's memory in a cgroup, and what a cap is in bytes. The kernel's files are
// read by kernel/cgroup.ts; what their numbers mean is decided here.
import { UsageError } from './errors.js';
import { parseSize } from './limits.js';

/** `--max-mem 80%`: a share of the memory limit of the cgroup angel runs in, resolved at start. */
export interface Percent {
  readonly percent: number;
}

export type MemoryCap = number | Percent;

export const isPercent = (cap: MemoryCap | null): cap is Percent => typeof cap === 'object' && cap !== null;

/** A size (`512M`), or a percentage above 0 and at most 100 (`80%`, `95.5%`). */
export function memoryCap(value: unknown, name: string): MemoryCap {
  if (typeof value === 'string' && value.trim().endsWith('%')) {
    const text = value.trim().slice(0, -1).trim();
    const percent = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (percent > 0 && percent <= 100) return { percent };
    throw new UsageError(name, value, 'expected a percentage above 0 and at most 100, such as 80%');
  }
  const expected = 'expected a size above 0 such as 512M or 1.5G, or a percentage of the cgroup\'s limit such as 80%';
  let bytes = typeof value === 'number' && Number.isSafeInteger(value) ? value : NaN;
  if (typeof value === 'string') {
    try {
      bytes = parseSize(value, name);
    } catch {
      throw new UsageError(name, value, expected);
    }
  }
  if (!(bytes > 0)) throw new UsageError(name, value, expected);
  if (bytes < MIN_CAP_BYTES) throw new UsageError(name, value, `expected a cap of at least 1M${bytesMeant(value)}`);
  return bytes;
}

/** The least a cap can mean: a process of the smallest kind (a static program just exec'd) holds about this
 * much resident memory, so a smaller cap stops every child as it starts, and restarts it until angel gives up. */
export const MIN_CAP_BYTES = 2 ** 20;

/** A cap written as a bare number is bytes: `--max-mem 100` was most likely meant as 100M, and is told so. */
function bytesMeant(value: unknown): string {
  const bare = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return /^\d+$/.test(bare) ? ` (a number alone is bytes: did you mean ${bare}M?)` : '';
}

export const showCap = (cap: MemoryCap | null): unknown => (isPercent(cap) ? `${cap.percent}%` : cap);

/** The cap in bytes: a percentage of `limitBytes`, rounded down to a whole page. */
export function capBytes(cap: MemoryCap, limitBytes: number): number {
  if (!isPercent(cap)) return cap;
  const page = 4096;
  return Math.max(page, Math.floor((limitBytes * cap.percent) / 100 / page) * page);
}

/** Where --max-mem's bytes come from: a size given, a share of the limit of angel's own cgroup, or (no limit on
 * the way up: a plain `docker run`) a share of the machine's memory, as systemd's `MemoryMax=90%`. */
export type CapSource = 'size' | 'cgroup' | 'machine';

export interface ResolvedCap {
  capBytes: number;
  /** The limit the share is of (the cgroup's, or the machine's memory); null for a size. */
  ofBytes: number | null;
  source: CapSource;
}

/** The cap in bytes, from the limit of angel's cgroup (null: none) or else the machine's memory. */
export function resolveCap(cap: MemoryCap, limitBytes: number | null, machineBytes: number): ResolvedCap {
  if (!isPercent(cap)) return { capBytes: cap, ofBytes: null, source: 'size' };
  const of = limitBytes ?? machineBytes;
  return { capBytes: capBytes(cap, of), ofBytes: of, source: limitBytes === null ? 'machine' : 'cgroup' };
}

/** How the memory is watched:
 * - `cgroup` (--cgroup): each generation in a cgroup of angel's, its figure told by the kernel;
 * - `container`: N% of the limit of angel's own cgroup, where it cannot make cgroups (a pod's read-only
 *   /sys/fs/cgroup): that cgroup's own figure, angel included, since the kernel OOM-kills on it;
 * - `tree`: the resident memory of the child's process tree, sampled from /proc (a size, or N% of the
 *   machine's memory where no limit is set). */
export type WatchMode = 'tree' | 'container' | 'cgroup';

export function watchModeOf(cap: ResolvedCap, cgroups: boolean): WatchMode {
  if (cgroups) return 'cgroup';
  return cap.source === 'cgroup' ? 'container' : 'tree';
}

/** The smallest headroom a cap must leave above what is charged to the container before the program starts
 * (angel itself, and whatever else runs there): less, and the program would be stopped as it starts. */
export const MIN_PROGRAM_BYTES = 16 * 2 ** 20;

/** What the kernel would OOM-kill on, from a memory cgroup's usage and memory.stat: anonymous memory, shmem
 * (tmpfs, /dev/shm, memfd), kernel memory that cannot be reclaimed, dirty and writeback file pages; not the
 * clean page cache, active or inactive, nor reclaimable slab, which the kernel reclaims before it OOM-kills.
 * (The kubelet's working set, usage less inactive_file only, counts active file pages too.) */
export function unreclaimable(version: 1 | 2, usageBytes: number, statText: string): number {
  const field = (name: string): number => statField(statText, version === 1 ? `total_${name}` : name) ?? 0;
  const [file, dirty, writeback] = version === 1 ? [field('cache'), field('dirty'), field('writeback')] : [field('file'), field('file_dirty'), field('file_writeback')];
  const cleanFile = Math.max(0, file - field('shmem') - dirty - writeback);
  const reclaimableSlab = version === 2 ? field('slab_reclaimable') : 0;
  return Math.max(0, usageBytes - cleanFile - reclaimableSlab);
}

/** How often a cgroup's figure is sampled where the kernel does not tell angel first (container mode) or as the
 * fallback to its notices (--cgroup): the time the figure would take to reach the cap at the rate it grows (at
 * least FLOOR_RATE, twice what was seen), between `minMs` and `maxMs`. A quiet program far below its cap is
 * looked at once a second; a leak near the cap, every few milliseconds. */
export interface Pace {
  minMs: number;
  maxMs: number;
}

/** The growth assumed of a program seen flat: 128 MiB/s, in bytes per ms. */
const FLOOR_RATE = (128 * 2 ** 20) / 1000;

export interface PaceState {
  figureBytes: number;
  at: number;
  /** Bytes per ms, decaying: the fastest growth seen lately. */
  rate: number;
}

export function nextSample(pace: Pace, capBytes: number, figureBytes: number, now: number, last: PaceState | null): { delayMs: number; state: PaceState } {
  const seen = last === null || now <= last.at ? 0 : Math.max(0, (figureBytes - last.figureBytes) / (now - last.at));
  const rate = Math.max(seen, (last?.rate ?? 0) / 2);
  const headroom = capBytes - figureBytes;
  const delayMs = headroom <= 0 ? pace.minMs : Math.min(pace.maxMs, Math.max(pace.minMs, Math.floor(headroom / Math.max(FLOOR_RATE, 2 * rate))));
  return { delayMs, state: { figureBytes, at: now, rate } };
}

/** How often each mode samples: the tree every --sample-interval; with --cgroup the kernel tells angel (a
 * threshold, memory.high), so the sample is the fallback and the peak figure, once a second (or the interval,
 * when longer); in container mode nothing tells angel, and the one read of the container's figure adapts to its
 * headroom, from 10 ms near the cap to that second. */
export function paceOf(mode: WatchMode, intervalMs: number): Pace {
  return mode === 'tree' ? { minMs: intervalMs, maxMs: intervalMs } : { minMs: Math.min(10, intervalMs), maxMs: Math.max(1000, intervalMs) };
}

/** The delay before a generation's next sample in its mode. With --cgroup the kernel's notices carry the figure
 * up to the early threshold; from there, where a step may stop past the cap between two of v1's checks, the
 * container's pace takes over until it falls back below. */
export function delayAfter(mode: WatchMode, pace: Pace, capBytes: number, figureBytes: number, now: number, last: PaceState | null): { delayMs: number; state: PaceState } {
  const next = nextSample(pace, capBytes, figureBytes, now, last);
  if (mode === 'tree' || (mode === 'cgroup' && figureBytes < earlyThreshold(capBytes))) return { delayMs: pace.maxMs, state: next.state };
  return next;
}

/** How far past the cap a generation may grow during its grace period before it is killed at once: by angel's
 * judge (overrun.ts) when it samples RSS, by the kernel (memory.max, memory.limit_in_bytes) with --cgroup. */
export const HARD_CEILING_FACTOR = 1.5;

export const ceilingBytes = (cap: number): number => Math.floor((cap * HARD_CEILING_FACTOR) / 4096) * 4096;

/** v1 says "no limit" with PAGE_COUNTER_MAX pages (9223372036854771712 on x86_64), v2 with `max`; anything
 * from 2^62 bytes up is no limit either way. */
const UNLIMITED = 2 ** 62;

/** A limit file's content (`memory.max`, `memory.limit_in_bytes`, `hierarchical_memory_limit`) in bytes, or
 * null when it sets none. */
export function limitOf(text: string): number | null {
  const value = text.trim();
  if (value === 'max' || value === '') return null;
  const bytes = Number(value);
  return Number.isFinite(bytes) && bytes < UNLIMITED ? bytes : null;
}

/** The lowest of the limits on a path of cgroups (v2: a cgroup's memory is bounded by every ancestor's
 * memory.max), or null when none sets one. */
export function lowestLimit(limits: ReadonlyArray<number | null>): number | null {
  const set = limits.filter((limit): limit is number => limit !== null);
  return set.length === 0 ? null : Math.min(...set);
}

/** One `key value` line of memory.stat (or memory.events, memory.oom_control); null when absent. */
export function statField(text: string, key: string): number | null {
  const line = text.startsWith(`${key} `) ? 0 : text.indexOf(`\n${key} `);
  if (line < 0) return null;
  const start = (line === 0 && text.startsWith(`${key} `) ? 0 : line + 1) + key.length + 1;
  const end = text.indexOf('\n', start);
  const value = Number(text.slice(start, end < 0 ? undefined : end));
  return Number.isFinite(value) ? value : null;
}

/** The usage at which a v1 threshold (cgroup.event_control) is to notify next. The kernel notifies once usage
 * reaches a threshold, and only on crossing it, so: the first just past the cap; after a notice that found usage
 * past the cap but a working set within it (cache), the usage at which the working set would pass the cap if all
 * the growth from there were not cache; null when no other is needed. */
export function nextThreshold(capBytes: number, reading?: { usageBytes: number; figureBytes: number }): number | null {
  if (!reading) return capBytes + 1;
  if (reading.usageBytes <= capBytes || reading.figureBytes > capBytes) return null;
  return reading.usageBytes + (capBytes - reading.figureBytes) + 1;
}

/** v1 notices only on crossing a threshold, and checks for one every 128 pages charged: a step that ends just
 * past the cap may be charged without a check after it. A threshold this far below the cap is crossed with
 * that many pages to spare, and its notice starts the sampling that the pace (nextSample) quickens near the cap. */
export function earlyThreshold(capBytes: number): number {
  return Math.max(1, capBytes - Math.max(2 ** 20, Math.floor(capBytes / 64)));
}

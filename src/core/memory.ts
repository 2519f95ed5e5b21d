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
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string') {
    let bytes: number;
    try {
      bytes = parseSize(value, name);
    } catch {
      throw new UsageError(name, value, expected);
    }
    if (bytes > 0) return bytes;
  }
  throw new UsageError(name, value, expected);
}

export const showCap = (cap: MemoryCap | null): unknown => (isPercent(cap) ? `${cap.percent}%` : cap);

/** The cap in bytes: a percentage of `limitBytes`, rounded down to a whole page. */
export function capBytes(cap: MemoryCap, limitBytes: number): number {
  if (!isPercent(cap)) return cap;
  const page = 4096;
  return Math.max(page, Math.floor((limitBytes * cap.percent) / 100 / page) * page);
}

/** With --cgroup the kernel tells angel when the cap is passed; the periodic sample is only the fallback (a v1
 * cgroup whose cache stays past the cap after its thresholds ran out) and the peak figure, so it comes at most this
 * often: a Node process woken every 100 ms costs about 3 ms of CPU a second, 90 ms per 30 s (benchmarks/watch.ts). */
const CGROUP_SAMPLE_MS = 1000;

export const sampleIntervalOf = (intervalMs: number, cgroup: boolean): number => (cgroup ? Math.max(intervalMs, CGROUP_SAMPLE_MS) : intervalMs);

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
export function nextThreshold(capBytes: number, reading?: { usageBytes: number; workingSetBytes: number }): number | null {
  if (!reading) return capBytes + 1;
  if (reading.usageBytes <= capBytes || reading.workingSetBytes > capBytes) return null;
  return reading.usageBytes + (capBytes - reading.workingSetBytes) + 1;
}

/** The working set, as the kubelet and cAdvisor count a container's memory: usage less the inactive file cache,
 * which the kernel reclaims first. A big file read fills the cache but not the working set. */
export function workingSet(usageBytes: number, inactiveFileBytes: number): number {
  return Math.max(0, usageBytes - inactiveFileBytes);
}

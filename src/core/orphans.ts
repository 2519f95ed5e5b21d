// Pure: which generation a process belongs to. One rule of membership for memory, stop and notify: a generation
// owns every process it started. A process whose parent died is reparented to angel (a child subreaper, or PID
// 1); it left a generation's tree, and goes on counting in that generation's --max-mem, being stopped with it,
// and speaking for it on its NOTIFY_SOCKET. An orphan is attributed, in order, by:
//   1. its session: every generation's first process is a session leader (setsid in the fork path), so a
//      process still in session N's leader's session came from that generation, however it was orphaned;
//   2. ANGEL_GENERATION in the environment it was started with (/proc/<pid>/environ): every generation's
//      processes inherit it unless they clear their environment, a setsid daemon too;
//   3. the last tree seen: a daemon that called setsid() left the session, but if a sample saw it in a
//      generation's tree it came from there;
//   4. its start time: a process cannot come from a generation spawned after it started (a daemon found once
//      its generation crashed and the next one runs is the old one's), so the youngest generation spawned no
//      later than it;
//   5. otherwise the current generation (as PID 1, anything the container started belongs to what runs).
// A process attributed to a generation that has ended is its leftover: it is stopped as its generation would
// have been. Process groups add nothing: a group lies inside one session.

export interface Orphan {
  pid: number;
  /** Its session id (/proc/<pid>/stat field 6). */
  session: number;
  /** When it started, in clock ticks since boot (stat field 22); null when unknown. */
  startTick: number | null;
  /** ANGEL_GENERATION of the environment it was started with, when it had one. */
  generation: number | null;
}

export interface Family {
  number: number;
  /** The generation's first process: its session id. */
  leader: number;
  /** The pids of its tree in the last sample (none when nothing samples). */
  lastTree: readonly number[];
  /** When its first process started, in clock ticks since boot; null when unknown. */
  startTick: number | null;
  /** Its first process has ended: what is found of it now is left over. */
  ended: boolean;
}

/** What becomes of an orphan: adopted by a living generation, stopped with an ended one's leftovers, or none
 * (no generation to give it to: angel stops it as a leftover of no one). */
export type Fate = { adopt: number } | { leftover: number } | { leftover: null };

/** The generation the orphan is attributed to (see above), or null when there is none. */
export function familyOf(orphan: Orphan, families: readonly Family[], current: number | null): number | null {
  const bySession = families.find((family) => family.leader === orphan.session);
  if (bySession) return bySession.number;
  const byEnvironment = families.find((family) => family.number === orphan.generation);
  if (byEnvironment) return byEnvironment.number;
  const byTree = families.find((family) => family.lastTree.includes(orphan.pid));
  if (byTree) return byTree.number;
  if (orphan.startTick !== null) {
    const before = families.filter((family) => family.startTick !== null && family.startTick <= orphan.startTick!);
    if (before.length > 0) return before.reduce((youngest, family) => (family.number > youngest.number ? family : youngest)).number;
  }
  return current;
}

export function fateOf(orphan: Orphan, families: readonly Family[], current: number | null): Fate {
  const number = familyOf(orphan, families, current);
  const family = families.find((candidate) => candidate.number === number);
  if (family === undefined) return { leftover: null };
  return family.ended ? { leftover: family.number } : { adopt: family.number };
}

/** How many ended generations are remembered for attribution: an orphan found later than this many restarts
 * after its generation ended is stopped as a leftover of no one, which it is by then. */
export const ENDED_REMEMBERED = 64;

/** The families with `ended` added, the oldest ended ones dropped past ENDED_REMEMBERED. In two passes and one
 * new list: it runs at every child's end, before its restart's spawn, over up to 64 ended families, where three
 * filtered lists and a set took some 5 us. */
export function remember(families: readonly Family[], ended: Family): Family[] {
  let endedOthers = 0;
  for (const family of families) if (family.ended && family.number !== ended.number) endedOthers++;
  // the oldest ended ones come first: they go, as many as are past the limit with `ended` counted if it is one
  let toDrop = Math.max(0, endedOthers + (ended.ended ? 1 : 0) - ENDED_REMEMBERED);
  const kept: Family[] = [];
  for (const family of families) {
    if (family.number === ended.number) continue;
    if (family.ended && toDrop > 0) {
      toDrop--;
      continue;
    }
    kept.push(family);
  }
  kept.push(ended);
  return kept;
}

/** Whether a sampled tree is another set of processes than the last one: a process left or joined it, so the
 * reaper looks for orphans (one that left the tree may be angel's now). */
export function treeChanged(previous: readonly number[], next: readonly number[]): boolean {
  if (previous.length !== next.length) return true;
  // a tree read again comes in the same order: no set made at every sample for what did not change
  let index = 0;
  while (index < next.length && next[index] === previous[index]) index++;
  if (index === next.length) return false;
  const known = new Set(previous);
  return next.some((pid) => !known.has(pid));
}

// Pure: which generation an orphan belongs to. A process whose parent died is reparented to angel (a child
// subreaper, or PID 1); it left a generation's tree, and goes on counting in that generation's --max-mem and
// is stopped with it. The rule, in order:
//   1. its session: every generation's first process is a session leader (setsid in the fork path), so a
//      process still in session N's leader's session came from that generation, however it was orphaned;
//   2. the last tree seen: a daemon that called setsid() left the session, but if a sample saw it in a
//      generation's tree it came from there;
//   3. otherwise the current generation: an orphan born and re-parented between two samples, in a session of
//      its own, most likely comes from the one that runs (and as PID 1, from anything the container started).
// Process groups add nothing: a group lies inside one session.

export interface Orphan {
  pid: number;
  /** Its session id (/proc/<pid>/stat field 6). */
  session: number;
}

export interface Family {
  number: number;
  /** The generation's first process: its session id. */
  leader: number;
  /** The pids of its tree in the last sample. */
  lastTree: readonly number[];
}

/** The generation the orphan is attributed to, or null when there is none to attribute it to. */
export function familyOf(orphan: Orphan, families: readonly Family[], current: number | null): number | null {
  const bySession = families.find((family) => family.leader === orphan.session);
  if (bySession) return bySession.number;
  const byTree = families.find((family) => family.lastTree.includes(orphan.pid));
  if (byTree) return byTree.number;
  return current;
}

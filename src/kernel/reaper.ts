// The reaper. As a child subreaper (prctl(PR_SET_CHILD_SUBREAPER)), or as PID 1, angel becomes the parent of
// every orphan of its children's trees: a daemon that double-forked or called setsid() is reparented to angel
// instead of init. The reaper reaps those that end, so no zombie piles up, and reports those that live, so the
// supervisor can count them in their generation's memory and stop them with it.
//
// It never takes a status that someone else waits for: the generations' first processes are reaped through
// their pidfds (kernel/spawn.ts), and libuv waits by pid for the children Node's child_process started (a
// waitpid(-1) here would take their statuses, and child_process would never report their exit). So children
// are reaped by pid: on SIGCHLD the addon reaps every ended child that is neither, in one call (reapEnded); live
// orphans are found by listing angel's children in /proc when a generation's tree changed.
//
// A storm of orphans (a shell script's every command, a pre-fork server's workers) is reaped in batches: each
// SIGCHLD of Node's wakes angel's loop and runs JavaScript, which costs more than the reaping itself, so after a
// reap the listener is put away (SIGCHLD back to SIG_DFL: the kernel discards it, angel sleeps) and angel looks
// again REAP_PAUSE_MS later; when that finds nothing, it listens again. A zombie lives that much longer, and
// costs nothing meanwhile: a generation's end is watched through its pidfd, never through SIGCHLD.
import { ChildProcess } from 'node:child_process';
import type { Orphan } from '../core/orphans.js';
import { EMPTY_ENVIRONMENT, generationOf, OwnChildren, statFields, treePids } from './proctree.js';
import { reapEnded, reapPid, setChildSubreaper } from './syscalls.js';

/** What attribution needs of a live process (core/orphans.ts), or null when it is gone or a zombie; LATER when
 * its environment reads as empty and `lastLook` is false: a process caught in execve shows its own in a moment. */
function orphanFacts(pid: number, lastLook: boolean): Orphan | null | typeof LATER {
  // stat fields 3, 6 and 22: its state, its session, its start time
  const fields = statFields(pid);
  if (fields === null || fields[0] === 'Z') return null;
  const startTick = Number(fields[19]);
  let generation = generationOf(pid);
  if (generation === EMPTY_ENVIRONMENT) {
    if (!lastLook) return LATER;
    generation = null;
  }
  return { pid, session: Number(fields[3]), startTick: Number.isFinite(startTick) ? startTick : null, generation };
}

const LATER = 'later';

/** How many scans look at an orphan whose environment reads as empty before it is reported without one: a
 * setsid daemon is found as soon as its session exists, often while it execs its program, and reported then it
 * would lose its generation (rule 2 of core/orphans.ts); one started with no environment is reported the
 * SCAN_DELAY_MS apart looks later. */
const EMPTY_ENVIRONMENT_LOOKS = 5;

/** The pids of the children Node's child_process started and libuv still waits for. */
function libuvChildren(): Set<number> {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return new Set(handles.filter((handle): handle is ChildProcess => handle instanceof ChildProcess).map((child) => child.pid ?? -1));
}

/** SIGKILLs a process and its tree (an orphan that belongs to no generation left). */
export function killTree(pid: number): void {
  for (const member of treePids(pid)) {
    try {
      process.kill(member, 'SIGKILL');
    } catch {
      // ESRCH: gone meanwhile
    }
  }
}

/** How long a requested scan may wait, so that many requests make one scan. */
const SCAN_DELAY_MS = 20;

/** After a reap, how long SIGCHLD is not listened to: in a storm, one reap per pause instead of one per orphan.
 * The pause doubles while every look finds more (a storm that goes on), up to the longest. */
const REAP_PAUSE_MS = 10;
const LONGEST_REAP_PAUSE_MS = 100;

export class Reaper {
  /** Live orphans already reported. */
  #seen = new Set<number>();
  /** Live orphans not reported yet, their environment read as empty: how many looks each has had. */
  #emptyLooks = new Map<number, number>();
  /** angel's children: orphans are reparented to its main thread, and angel spawns from it (a worker thread's
   * `child_process` children are libuv's, never reaped here), so one list holds every child that matters. */
  readonly #children = new OwnChildren();
  #scanTimer: NodeJS.Timeout | null = null;
  /** While SIGCHLD is not listened to (after a reap), the look that ends the pause. */
  #pauseTimer: NodeJS.Timeout | null = null;
  #listening = false;
  #pauseMs = REAP_PAUSE_MS;
  readonly #onSigchld = (): void => {
    // only a reap that took orphans starts a pause: a SIGCHLD for a generation's own first process (watched
    // through its pidfd, left here) is no storm, and a crash loop should not put the listener away and back
    // at every restart
    if (this.reap() > 0) this.#pause();
  };

  constructor(
    /** The pids reaped elsewhere (the generations' first processes that have not ended). */
    readonly ownPids: () => readonly number[],
    readonly onOrphan: (orphan: Orphan) => void,
  ) {}

  start(): void {
    setChildSubreaper(true);
    this.#listen();
    this.scan();
  }

  stop(): void {
    this.#unlisten();
    for (const timer of [this.#scanTimer, this.#pauseTimer]) if (timer !== null) clearTimeout(timer);
    this.#scanTimer = this.#pauseTimer = null;
    this.#children.close();
  }

  /** Reaps the children that ended (one call into the addon for all of them); returns how many. */
  reap(): number {
    const [kept = 0, ...reaped] = reapEnded(Int32Array.from([...this.ownPids(), ...libuvChildren()]));
    // one that someone else reaps hides the ended children behind it from waitid: they are found by the list,
    // once its owner has reaped it (a generation's restart is not kept waiting for the list)
    if (kept !== 0) this.scanSoon();
    let orphanEnded = false;
    for (const pid of reaped) if (this.#seen.delete(pid)) orphanEnded = true;
    // the children of an orphan that ended are angel's now: found, and reported, at once
    if (orphanEnded) this.scan();
    return reaped.length;
  }

  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    process.on('SIGCHLD', this.#onSigchld);
  }

  #unlisten(): void {
    if (!this.#listening) return;
    this.#listening = false;
    process.off('SIGCHLD', this.#onSigchld);
  }

  /** SIGCHLD is not listened to for a while, then angel reaps what ended meanwhile: while a look finds some,
   * another follows a longer pause later; once one finds none, angel listens again and looks once more (in that
   * order: a child that ends between the two is reaped then, or signals). */
  #pause(): void {
    this.#unlisten();
    if (this.#pauseTimer !== null) return;
    this.#pauseTimer = setTimeout(() => {
      this.#pauseTimer = null;
      if (this.reap() > 0) {
        this.#pauseMs = Math.min(LONGEST_REAP_PAUSE_MS, this.#pauseMs * 2);
        return this.#pause();
      }
      this.#pauseMs = REAP_PAUSE_MS;
      this.#listen();
      if (this.reap() > 0) this.#pause();
    }, this.#pauseMs).unref();
  }

  /** Reaps every ended child that is not the generations' or libuv's, and reports each live orphan once. */
  scan(): void {
    const children = this.#others();
    for (const pid of children) {
      // a non-blocking waitid is the cheapest look at a child: it reaps one that ended, and answers false for
      // one that runs; only a live orphan not seen before costs a read of its stat
      if (reapPid(pid) || this.#seen.has(pid)) continue;
      const looks = (this.#emptyLooks.get(pid) ?? 0) + 1;
      const orphan = orphanFacts(pid, looks >= EMPTY_ENVIRONMENT_LOOKS);
      if (orphan === null) continue;
      if (orphan === LATER) {
        this.#emptyLooks.set(pid, looks);
        this.scanSoon();
        continue;
      }
      this.#emptyLooks.delete(pid);
      this.#seen.add(pid);
      this.onOrphan(orphan);
    }
    const live = new Set(children);
    for (const pids of [this.#seen, this.#emptyLooks]) for (const pid of pids.keys()) if (!live.has(pid)) pids.delete(pid);
  }

  /** One scan within SCAN_DELAY_MS, however many ask for it meanwhile: in a crash loop a scan per restart would
   * be a read of the children list on every restart's path, and the orphans of an ended generation are as surely
   * found a little later. */
  scanSoon(): void {
    if (this.#scanTimer !== null) return;
    this.#scanTimer = setTimeout(() => {
      this.#scanTimer = null;
      this.scan();
    }, SCAN_DELAY_MS).unref();
  }

  /** SIGKILLs every orphan left (with its tree) and waits until all are reaped, at most `timeoutMs`: no process
   * outlives angel. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const others = this.#others();
      if (others.length === 0 || Date.now() > deadline) return;
      for (const pid of others) {
        killTree(pid);
        reapPid(pid);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  #others(): number[] {
    const own = this.ownPids();
    const others = this.#children.read().filter((pid) => !own.includes(pid));
    // Node's list of handles is asked for only when a child is neither a generation's nor known yet: a scan after
    // a restart, which finds only the new generation, costs one pread
    if (others.length === 0) return others;
    const libuv = libuvChildren();
    return others.filter((pid) => !libuv.has(pid));
  }
}

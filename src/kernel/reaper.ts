// The reaper. As a child subreaper (prctl(PR_SET_CHILD_SUBREAPER)), or as PID 1, angel becomes the parent of
// every orphan of its children's trees: a daemon that double-forked or called setsid() is reparented to angel
// instead of init. The reaper reaps those that end, so no zombie piles up, and reports those that live, so the
// supervisor can count them in their generation's memory and stop them with it.
//
// It never takes a status that someone else waits for: the generations' first processes are reaped through
// their pidfds (kernel/spawn.ts), and libuv waits by pid for the children Node's child_process started (a
// waitpid(-1) here would take their statuses, and child_process would never report their exit). So children
// are reaped by pid: on SIGCHLD each ended child is peeked at first (waitid WNOWAIT) and reaped only when it is
// neither; live orphans are found by listing angel's children in /proc when a generation's tree changed.
import { ChildProcess } from 'node:child_process';
import type { Orphan } from '../core/orphans.js';
import { generationOf, OwnChildren, statFields, treePids } from './proctree.js';
import { endedChild, reapPid, setChildSubreaper } from './syscalls.js';

/** What attribution needs of a live process (core/orphans.ts), or null when it is gone or a zombie. */
function orphanFacts(pid: number): Orphan | null {
  // stat fields 3, 6 and 22: its state, its session, its start time
  const fields = statFields(pid);
  if (fields === null || fields[0] === 'Z') return null;
  const startTick = Number(fields[19]);
  return { pid, session: Number(fields[3]), startTick: Number.isFinite(startTick) ? startTick : null, generation: generationOf(pid) };
}

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

export class Reaper {
  /** Live orphans already reported. */
  #seen = new Set<number>();
  /** angel's children: orphans are reparented to its main thread, and angel spawns from it (a worker thread's
   * `child_process` children are libuv's, never reaped here), so one list holds every child that matters. */
  readonly #children = new OwnChildren();
  #scanTimer: NodeJS.Timeout | null = null;
  readonly #onSigchld = (): void => this.reap();

  constructor(
    /** The pids reaped elsewhere (the generations' first processes). */
    readonly isOwn: (pid: number) => boolean,
    readonly onOrphan: (orphan: Orphan) => void,
  ) {}

  start(): void {
    setChildSubreaper(true);
    process.on('SIGCHLD', this.#onSigchld);
    this.scan();
  }

  stop(): void {
    process.off('SIGCHLD', this.#onSigchld);
    if (this.#scanTimer !== null) clearTimeout(this.#scanTimer);
    this.#scanTimer = null;
    this.#children.close();
  }

  /** On SIGCHLD: reaps the children that ended, a peek and a reap each, so a storm of orphans costs two syscalls
   * an orphan instead of a list of all angel's children per signal. */
  reap(): void {
    let libuv: Set<number> | undefined;
    let orphanEnded = false;
    for (let pid = endedChild(); pid !== 0; pid = endedChild()) {
      if (this.isOwn(pid) || (libuv ??= libuvChildren()).has(pid)) {
        // one that someone else reaps hides the ended children behind it from the peek: they are found by the
        // list, once its owner has reaped it (a generation's restart is not kept waiting for the list)
        this.scanSoon();
        return;
      }
      reapPid(pid);
      if (this.#seen.delete(pid)) orphanEnded = true;
    }
    // the children of an orphan that ended are angel's now: found, and reported, at once
    if (orphanEnded) this.scan();
  }

  /** Reaps every ended child that is not the generations' or libuv's, and reports each live orphan once. */
  scan(): void {
    const children = this.#others();
    for (const pid of children) {
      // a non-blocking waitid is the cheapest look at a child: it reaps one that ended, and answers false for
      // one that runs; only a live orphan not seen before costs a read of its stat
      if (reapPid(pid) || this.#seen.has(pid)) continue;
      const orphan = orphanFacts(pid);
      if (orphan === null) continue;
      this.#seen.add(pid);
      this.onOrphan(orphan);
    }
    const live = new Set(children);
    for (const pid of this.#seen) if (!live.has(pid)) this.#seen.delete(pid);
  }

  /** One scan within SCAN_DELAY_MS, however many ask for it meanwhile: in a crash loop a scan per restart was
   * 10 µs of each restart's 0.16 ms, and the orphans of an ended generation are as surely found a little later. */
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
    const others = this.#children.read().filter((pid) => !this.isOwn(pid));
    // Node's list of handles is asked for only when a child is neither a generation's nor known yet: a scan after
    // a restart, which finds only the new generation, costs one pread
    if (others.length === 0) return others;
    const libuv = libuvChildren();
    return others.filter((pid) => !libuv.has(pid));
  }
}

// A generation's processes, as the kernel shows them (core/orphans.ts says what belongs): its first process's
// process group and tree, and the orphans of it angel adopted with their trees. What is signalled when it is
// stopped, and what must be gone before it is over. With --cgroup the generation's cgroup holds them all, and
// generationcgroup.ts signals it instead.
import { inTree, statFields, treePids } from './proctree.js';
import { signalGroup } from './syscalls.js';

export class ProcessFamily {
  /** Orphans of this generation that angel adopted (reaper.ts): counted, stopped and awaited with it. */
  readonly adopted = new Set<number>();
  /** The tree when a stop began: processes that left the process group are signalled by pid. */
  #stopPids: readonly number[] = [];
  #leaderEnded = false;

  constructor(readonly leader: number) {}

  /** Its first process has ended (its pid may be another's soon): the family is found through its group and its
   * adopted orphans from here on. */
  leaderEnded(): void {
    this.#leaderEnded = true;
  }

  /** Every live process of the family: the tree of the first process while it lives, and of each adopted one. */
  pids(): number[] {
    const [first, ...rest] = this.#leaderEnded ? [...this.adopted] : [this.leader, ...this.adopted];
    return first === undefined ? [] : treePids(first, rest);
  }

  /** Takes note of the tree a stop begins with, so what leaves the group meanwhile is still signalled. */
  beginStop(): void {
    if (!this.#leaderEnded) this.#stopPids = this.pids().slice(1);
  }

  /** The signal to the process group, and to every process of the family that left it. */
  signal(signal: number): void {
    signalGroup(this.leader, signal);
    // the common end: the first process gone, nothing left its group, no orphan adopted
    if (this.#leaderEnded && this.#stopPids.length === 0 && this.adopted.size === 0) return;
    for (const pid of new Set([...this.#stopPids, ...this.pids(), ...this.adopted])) {
      // one still in the group had the signal with it: a second SIGINT is lighttpd's immediate stop
      if (pid === this.leader || Number(statFields(pid)?.[2]) === this.leader) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // ESRCH: it ended on its own meanwhile
      }
    }
  }

  /** The signal to one process of the family and its tree (an orphan adopted while a stop goes on). */
  signalTree(pid: number, signal: number): void {
    for (const member of treePids(pid)) {
      try {
        process.kill(member, signal);
      } catch {
        // ESRCH: it ended meanwhile
      }
    }
  }

  /** Whether any process of the family is left: its group (a zombie of it is reaped soon, by angel or its
   * parent) or a live adopted orphan. */
  alive(): boolean {
    if (signalGroup(this.leader, 0)) return true;
    for (const pid of this.adopted) {
      const state = statFields(pid)?.[0];
      if (state !== undefined && state !== 'Z') return true;
    }
    return false;
  }

  /** Whether `pid` is of this family now: in the first process's tree, adopted or below an adopted one, or in its
   * session (a daemon that double-forked and is not adopted yet). */
  owns(pid: number): boolean {
    if (pid === this.leader || this.adopted.has(pid)) return true;
    if (!this.#leaderEnded && inTree(this.leader, pid)) return true;
    for (const adopted of this.adopted) if (inTree(adopted, pid)) return true;
    return Number(statFields(pid)?.[3]) === this.leader;
  }
}

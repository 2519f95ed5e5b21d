// The driver's side of orphans: the reaper (kernel/reaper.ts) finds processes reparented to angel, core/orphans.ts
// says whose each is, and the generation that owns it takes it (or, ended, stops it with what is left of it).
// When to look: a sampled tree changed (core's treeChanged), a generation's first process ended (its children
// are angel's now), a stop begins (the whole family gets the signal), and a NOTIFY_SOCKET sender is not known.
import { fateOf, remember, treeChanged, type Family, type Orphan } from '../core/orphans.js';
import { killTree } from '../kernel/reaper.js';
import type { GenerationHandle } from './generation.js';

/** What a reaper does for the supervisor (kernel/reaper.ts). */
export interface ReaperLike {
  start(): void;
  scan(): void;
  /** A scan shortly (one for many requests). */
  scanSoon(): void;
  drain(timeoutMs: number): Promise<void>;
  stop(): void;
}

export type ReaperFactory = (ownPids: () => readonly number[], onOrphan: (orphan: Orphan) => void) => ReaperLike;

export class Orphans {
  #reaper: ReaperLike | null = null;
  /** The generations orphans may belong to: living, and ended ones remembered (core's ENDED_REMEMBERED). */
  #families: Family[] = [];
  /** Each sampled generation's tree at its last sample. */
  #trees = new Map<number, readonly number[]>();

  constructor(
    readonly factory: ReaperFactory | null,
    /** The generations angel holds: a living one takes its orphans. */
    readonly generations: ReadonlyMap<number, GenerationHandle>,
    /** The generation that serves or starts, for an orphan nothing else attributes. */
    readonly current: () => number | null,
  ) {}

  start(): void {
    this.#reaper = this.factory?.(() => this.#ownPids(), (orphan) => this.#adopt(orphan)) ?? null;
    this.#reaper?.start();
  }

  /** The generations' first processes are reaped through their pidfds, not by the reaper. */
  #ownPids(): number[] {
    const pids: number[] = [];
    for (const generation of this.generations.values()) if (!generation.exit) pids.push(generation.pid);
    return pids;
  }

  begun(generation: GenerationHandle): void {
    this.#families = remember(this.#families, this.#familyOf(generation, false));
  }

  /** Its first process ended: what is found of it from now on is left over (its children are angel's now: the
   * generation looks for them, scanNow, after the restart, which does not wait). */
  ended(generation: GenerationHandle): void {
    this.#families = remember(this.#families, this.#familyOf(generation, true));
    this.#trees.delete(generation.number);
  }

  /** A sample: a tree that changed may have left an orphan behind, to be adopted now and counted from the next. */
  sampled(generation: number, pids: readonly number[]): void {
    if (!this.#reaper) return;
    if (!treeChanged(this.#trees.get(generation) ?? [], pids)) return;
    this.#trees.set(generation, pids);
    this.#reaper.scan();
  }

  /** Looks for orphans now (a stop begins; a NOTIFY_SOCKET sender is not known yet). */
  scanNow(): void {
    this.#reaper?.scan();
  }

  async drain(timeoutMs: number): Promise<void> {
    await this.#reaper?.drain(timeoutMs);
    this.#reaper?.stop();
  }

  #familyOf(generation: GenerationHandle, ended: boolean): Family {
    return { number: generation.number, leader: generation.pid, lastTree: generation.lastTree, startTick: generation.startTick, ended };
  }

  #adopt(orphan: Orphan): void {
    // a living generation's tree as of now: the families keep what was known when it began
    const families = this.#families.map((family) => {
      const generation = this.generations.get(family.number);
      return generation && !family.ended ? { ...family, lastTree: generation.lastTree, startTick: generation.startTick } : family;
    });
    const fate = fateOf(orphan, families, this.current());
    const owner = 'adopt' in fate ? fate.adopt : fate.leftover;
    const generation = owner === null ? undefined : this.generations.get(owner);
    // one whose generation is gone altogether belongs to no one: it goes at once
    if (generation) generation.adopt(orphan.pid);
    else killTree(orphan.pid);
  }
}

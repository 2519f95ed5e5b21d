// The driver's side of --max-mem: the cap in force (a size, or N% of a limit that may move), how generations are
// sampled (core/memory.ts's mode and pace), and what each sample means (core/overrun.ts's judge). It keeps the
// state between samples; every decision is core's.
import { paceOf, showCap, watchModeOf, type ResolvedCap, type WatchMode } from '../core/memory.js';
import { judgeSample, type OverrunRules, type Watch } from '../core/overrun.js';
import type { ResolvedOptions } from '../core/options.js';
import type { CapEvent, OverrunEvent } from '../core/types.js';
import { resolveMemoryCap, type OwnMemoryLookup } from '../kernel/ownmemory.js';
import type { TreeSample } from '../kernel/proctree.js';
import type { GenerationHandle, Sampling } from './generation.js';

/** How often the limit behind an N% cap is read again, at least, while a generation is sampled. */
const CAP_READ_MS = 1000;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export type Verdict = { overrun: OverrunEvent; event: 'overrun' | 'hard-ceiling' } | null;

export class MemoryWatch {
  #cap: ResolvedCap | null = null;
  #rules: OverrunRules | null = null;
  #mode: WatchMode | null = null;
  #options!: ResolvedOptions;
  #readAt = 0;

  constructor(
    /** angel's own memory cgroup, read only: container mode's figure, N%'s limit. */
    readonly own: OwnMemoryLookup | null,
    /** --cgroup is in force: each generation in a cgroup of angel's. */
    readonly cgroups: boolean,
  ) {}

  /** The cap of a launch (at start, or a reload's new config). */
  take(cap: ResolvedCap | null, options: ResolvedOptions): void {
    this.#options = options;
    this.#cap = cap;
    this.#rules = cap === null ? null : { capBytes: cap.capBytes, samples: options.overrunSamples };
    this.#mode = cap === null ? null : watchModeOf(cap, this.cgroups);
  }

  get cap(): ResolvedCap | null {
    return this.#cap;
  }

  get capBytes(): number | null {
    return this.#rules?.capBytes ?? null;
  }

  /** What to say at start: N% of a machine with no limit set. */
  startWarning(now: number): string | null {
    this.#readAt = now;
    const cap = this.#cap;
    if (cap?.source !== 'machine') return null;
    return `--max-mem ${showCap(this.#options.maxMem)}: no memory limit is set on angel's cgroup or above it, so the cap is that share of the machine's memory, ${mib(cap.capBytes)} of ${mib(cap.ofBytes ?? 0)}`;
  }

  /** An N% cap follows the limit it is a share of: read again at every reload and, while a generation is
   * sampled, at least once a second. A change is returned as a `cap` event; the new cap is judged from the next
   * sample on. */
  refresh(now: number, force = false): CapEvent | null {
    const before = this.#cap;
    if (before === null || before.source === 'size' || this.#rules === null) return null;
    if (!force && now - this.#readAt < CAP_READ_MS) return null;
    this.#readAt = now;
    const cap = resolveMemoryCap(this.#options.maxMem, this.own?.get() ?? null);
    if (cap === null || cap.capBytes === before.capBytes) return null;
    this.#cap = cap;
    this.#rules = { ...this.#rules, capBytes: cap.capBytes };
    return { capBytes: cap.capBytes, previousBytes: before.capBytes, ofBytes: cap.ofBytes, source: cap.source };
  }

  /** How a generation's memory is sampled: in the mode the cap and the system chose, at its pace. */
  sampling(): Sampling | null {
    const mode = this.#mode;
    if (mode === null || this.#rules === null) return null;
    const own = mode === 'container' ? (this.own?.get() ?? null) : null;
    return { mode, pace: paceOf(mode, this.#options.sampleInterval), capBytes: () => this.#rules?.capBytes ?? 0, own };
  }

  /** What one sample of a generation means (core/overrun.ts), as the lifecycle watches it. */
  judge(generation: GenerationHandle, watch: Watch, sample: TreeSample): Verdict {
    const rules = this.#rules;
    if (rules === null) return null;
    const judged = judgeSample(rules, watch, generation.samplesOver, sample.rssBytes);
    generation.samplesOver = judged.samplesOver;
    if (judged.verdict === 'within') return null;
    const hardKill = judged.verdict === 'hard-ceiling';
    const overrun = { pid: generation.pid, generation: generation.number, rssBytes: sample.rssBytes, capBytes: rules.capBytes, ...(hardKill && { hardKill }) };
    return { overrun, event: hardKill ? 'hard-ceiling' : 'overrun' };
  }

  close(): void {
    this.own?.close();
  }
}

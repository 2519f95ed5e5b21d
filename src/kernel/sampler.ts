// Samples the memory of one generation: the tree's RSS, or a cgroup's figure (`source`: with --cgroup the
// generation's own, in container mode angel's). It only reports: the supervisor decides what an overrun
// means. One sample at a time, the next scheduled when the last is done, after the delay `delay` gives for it
// (a fixed interval for the tree, a pace by the headroom for a cgroup's one read); the timer is unref'd so
// sampling never keeps angel alive on its own, and re-armed with refresh() when the delay is the same. The
// kernel's notices with --cgroup ask for a sample at once (sampleNow) between two periodic ones.
import { now } from './clock.js';
import { TreeReader, type TreeSample } from './proctree.js';

export class Sampler {
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #peak = 0;
  #reader = new TreeReader();

  #delayMs = -1;

  constructor(
    readonly pid: number,
    /** The delay before the next sample, after this one. */
    readonly delay: (sample: TreeSample, now: number) => number,
    readonly onSample: (sample: TreeSample) => void,
    /** Orphans of this tree that angel adopted: they count as its part. */
    readonly adopted: ReadonlySet<number> = new Set(),
    readonly source: () => TreeSample = () => this.#reader.sample(this.pid, this.adopted),
  ) {}

  start(): void {
    this.#sampleNow();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopped = true;
    this.#reader.close();
  }

  /** The highest tree RSS seen so far in this generation. */
  get peakRssBytes(): number {
    return this.#peak;
  }

  /** A sample now; the next periodic one comes a whole interval later (the kernel's notices with --cgroup, and
   * `angel bench` just before it ends a generation). */
  sampleNow(): void {
    this.#sampleNow();
  }

  #sampleNow = (): void => {
    if (this.#stopped) return;
    const sample = this.source();
    // the child is gone; its exit will follow. (0 pages is no sign of that: the kernel's RSS counters are
    // per-CPU approximations, and a small fresh process can read 0.)
    if (sample.pids.length === 0) {
      this.stop();
      return;
    }
    if (sample.rssBytes > this.#peak) this.#peak = sample.rssBytes;
    // judged before the next one is scheduled: an overrun's stop signal waits for no pace arithmetic or timer
    this.onSample(sample);
    if (this.#stopped) return;
    const delayMs = this.delay(sample, now());
    if (this.#timer && delayMs === this.#delayMs) {
      this.#timer.refresh();
    } else {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(this.#sampleNow, delayMs).unref();
      this.#delayMs = delayMs;
    }
  };
}

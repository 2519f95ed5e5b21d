// Samples the tree RSS of one child every interval. It only reports: the supervisor decides what an
// overrun means. One sample at a time (the next is scheduled when the last is done); the timer is unref'd
// so sampling never keeps angel alive on its own. One timer for the sampler's life, re-armed with refresh():
// no new timer object every 100 ms. With --cgroup the sample is the cgroup's working set instead of the tree's
// RSS (`source`), and the kernel's notices ask for one at once (sampleNow) between two periodic ones.
import { TreeReader, type TreeSample } from './proctree.js';

export class Sampler {
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #peak = 0;
  #reader = new TreeReader();

  constructor(
    readonly pid: number,
    readonly intervalMs: number,
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
    if (this.#timer) this.#timer.refresh();
    else this.#timer = setTimeout(this.#sampleNow, this.intervalMs).unref();
    this.onSample(sample);
  };
}

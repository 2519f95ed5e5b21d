// Every target `npm run bench` holds angel to, in one place: each benchmark imports its own from here, prints it
// in its table beside the verdict, and the README's Performance table (generated from benchmarks/results.md) shows
// them as the tables printed them. Each says what it is measured against and by which clock.

export const TARGETS = {
  /** Spawn -> exec confirmed, as the supervisor calls spawnChild (an Environ derived per generation), the
   * caller's clock around the call: at most this many times the C vfork floor's median, with or without a
   * large heap. */
  spawnVsVfork: 1.5,
  /** Crash-loop restart by the child's clock (its exit -> the next generation's main): at most this many
   * times the C vfork loop's median. The first restart is immediate (delayMs 0). */
  restartVsVforkLoop: 1.3,
  /** A service that ran 1.1 s, by the child's clock: at most this many times the fork/exec/wait loop's median. */
  ranVsForkLoop: 1.6,
  /** Overrun detection, the child's clock (its RSS crossing the cap -> its stop signal): angel's median within
   * this many ms of the C sampler's at the same interval... */
  overrunGapMs: 10,
  /** ...and its p99 within one interval plus this many ms. */
  overrunSlackMs: 5,
  /** With --cgroup, the same clock from the cgroup's figure crossing the cap: the median under this, in ms. */
  cgroupOverrunMs: 2,
  /** Watching a 20-process tree every 100 ms (the default): CPU per 30 s under this, in ms... */
  treeWatchCpuMs: 150,
  /** ...and angel's RSS under this, in MB. */
  watchRssMb: 60,
  /** A feature asked for beside the tree (--metrics): CPU per 30 s under this, in ms (the tree's target before
   * issue 28 tightened it). */
  featureWatchCpuMs: 300,
  /** Idle between the kernel's notices and the once-a-second check (--cgroup, container mode): CPU per 30 s
   * under this, in ms. */
  eventWatchCpuMs: 20,
  /** Reload under load with --listen: failed requests over the run. */
  reloadFailed: 0,
  /** A long crash loop: the last 1,000 restarts' median at most this many times the first 1,000's... */
  crashLoopLatency: 1.2,
  /** ...and angel's RSS at the end within this many times, or this many MB above, the control's end. */
  crashLoopRss: 1.2,
  crashLoopRssSlackMb: 10,
  /** Reaping 10,000 orphans as PID 1: time (the first orphan's death -> zero zombies) and CPU each at most
   * this many times tini's. */
  reapVsTini: 1.5,
  /** Launch (bin/angel started -> the child's first instruction, the child's clock) at most bare Node's start
   * (`node -e 0` started -> exited) plus this many ms. */
  launchOverNodeMs: 15,
  /** Idle RSS at most bare idle Node's plus this many MB; threads no more than Node's own. */
  idleRssOverNodeMb: 5,
} as const;

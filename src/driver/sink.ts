// What a generation reports, turned into the supervisor's lifecycle events and public events: the sink each
// generation is begun with. It only translates: what each report means is the lifecycle's (through the events
// it enqueues), the memory watch's and the orphans'.
import type { LifecycleEvent } from '../core/lifecycle.js';
import type { ResolvedOptions } from '../core/options.js';
import type { Watch } from '../core/overrun.js';
import type { AngelEvents } from '../core/types.js';
import { now } from '../kernel/clock.js';
import { statusOf, type GenerationSink } from './generation.js';
import type { MemoryWatch } from './memory.js';
import type { Orphans } from './orphans.js';

/** What the sink needs of the supervisor. */
export interface SinkTarget {
  enqueue(event: LifecycleEvent): void;
  emit<K extends keyof AngelEvents>(name: K, ...payload: AngelEvents[K]): boolean;
  /** Runs `step` as one lifecycle step: what it emits comes after the effects of what it enqueues. */
  held(step: () => void): void;
  options(): ResolvedOptions;
  watchOf(generation: number): Watch;
  /** A generation's first process died at `at`: a restart is measured from the current one's. */
  died(generation: number, at: number): void;
  /** Nothing of the generation is left. */
  gone(generation: number): void;
  memory(): MemoryWatch;
  orphans(): Orphans;
}

export function generationSink(to: SinkTarget): GenerationSink {
  return {
    ready: (generation) => to.enqueue({ type: 'ready', generation: generation.number }),
    sample: (generation, sample) => {
      to.orphans().sampled(generation.number, sample.pids);
      to.emit('sample', { pid: generation.pid, rssBytes: sample.rssBytes, processes: sample.pids.length });
      const cap = to.memory().refresh(now());
      if (cap !== null) to.emit('cap', cap);
      const verdict = to.memory().judge(generation, to.watchOf(generation.number), sample);
      if (verdict === null) return;
      // the stop signal first, then the event's listeners (the event log's line among them)
      to.held(() => {
        to.emit('overrun', verdict.overrun);
        to.enqueue({ type: verdict.event, generation: generation.number });
      });
    },
    readyTimeout: (generation) => to.enqueue({ type: 'ready-timeout', generation: generation.number, afterMs: to.options().readyTimeout }),
    deadline: (generation) => to.enqueue({ type: 'deadline', generation: generation.number }),
    watchdog: (generation, triggered) => {
      to.emit('watchdog', { pid: generation.pid, generation: generation.number, periodMs: to.options().watchdog, ...(triggered && { triggered }) });
      to.enqueue({ type: 'watchdog', generation: generation.number });
    },
    notified: (generation, message) => {
      const { ready, reloading, stopping, watchdog, status } = message;
      to.emit('notify', { pid: generation.pid, generation: generation.number, ready, reloading, stopping, watchdog, status });
    },
    refused: (generation, why) => to.emit('warning', { message: `generation ${generation.number}: ${why}` }),
    exited: (generation, exit, at) => {
      to.died(generation.number, at);
      to.orphans().ended(generation);
      const servedMs = generation.readyAt === undefined ? 0 : at - generation.readyAt;
      const oomKilled = generation.oomKilled ?? false;
      to.enqueue({ type: 'exited', generation: generation.number, status: statusOf(exit), cleanExit: exit.code === 0, uptimeMs: at - generation.execAt, servedMs, now: at, ...(oomKilled && { oomKilled }) });
    },
    gone: (generation) => to.gone(generation.number),
    oomKill: (generation) => {
      to.emit('warning', { message: `generation ${generation.number}: the kernel's OOM killer killed a process of its cgroup; the rest of it goes too` });
      to.enqueue({ type: 'oom-kill', generation: generation.number });
    },
    adoptNow: () => to.orphans().scanNow(),
  };
}

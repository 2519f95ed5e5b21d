// One generation of the child: its process, its sampler, its readiness probe, its NOTIFY_SOCKET, its cgroup
// (--cgroup) and its three timers (the readiness deadline, the kill deadline and the watchdog), each armed and
// cleared here and nowhere else. It reports what happens to it and does what it is told (stop, kill); what any
// of it means is the lifecycle's call.
import { performance } from 'node:perf_hooks';
import { delayAfter, type Pace, type PaceState, type WatchMode } from '../core/memory.js';
import { parseNotify, type NotifyMessage } from '../core/notify.js';
import type { GenerationCgroup } from '../kernel/generationcgroup.js';
import type { NotifySocket } from '../kernel/notify.js';
import type { OwnMemory } from '../kernel/ownmemory.js';
import { inTree, treePids, type TreeSample } from '../kernel/proctree.js';
import type { ReadyMode } from '../core/readiness.js';
import { closeReadyPipe, probeReady, type ReadyPipe, type ReadyProbe } from '../kernel/ready.js';
import { Sampler } from '../kernel/sampler.js';
import { signalNumber, type SignalLike } from '../core/signames.js';
import { letChildRun, spawnChild, type ChildExit, type ChildProcess, type SpawnOptions } from '../kernel/spawn.js';

/** What a generation reports, each with itself as the first argument. */
export interface GenerationSink {
  ready(generation: GenerationHandle, readyAt: number): void;
  sample(generation: GenerationHandle, sample: TreeSample): void;
  readyTimeout(generation: GenerationHandle): void;
  deadline(generation: GenerationHandle): void;
  /** It missed its watchdog period, or asked to be treated as hung (WATCHDOG=trigger: `triggered`). */
  watchdog(generation: GenerationHandle, triggered: boolean): void;
  /** A message from its tree on its NOTIFY_SOCKET. */
  notified(generation: GenerationHandle, message: NotifyMessage): void;
  /** A datagram on its NOTIFY_SOCKET that was not taken, and why (once per generation: a flood is one line). */
  refused(generation: GenerationHandle, why: string): void;
  exited(generation: GenerationHandle, exit: ChildExit, at: number): void;
  /** The kernel's OOM killer killed a process of the generation's cgroup (--cgroup). */
  oomKill(generation: GenerationHandle): void;
}

/** What a generation's memory samples read, and how often (core/memory.ts: WatchMode, Pace). */
export interface Sampling {
  mode: WatchMode;
  pace: Pace;
  /** The cap in force, which a pace measures the headroom against (a resized container moves it). */
  capBytes: () => number;
  /** Container mode: angel's own cgroup, whose figure every sample reads. */
  own: OwnMemory | null;
}

export interface GenerationSpec {
  number: number;
  spawn: SpawnOptions;
  ready: ReadyMode;
  /** The pipe of `--ready fd`, whose write end is in spawn.fds. */
  readyPipe: ReadyPipe | null;
  readyTimeoutMs: number;
  /** How its memory is sampled; null: no --max-mem, no sampling. */
  sampling: Sampling | null;
  /** --cgroup: the generation's own cgroup, made for it; the child starts in it, and it goes with the generation. */
  cgroup: GenerationCgroup | null;
  /** angel's own memory cgroup: without a cgroup of its own, a generation's SIGKILL while its OOM kill count
   * moved was the kernel's OOM killer. */
  own: OwnMemory | null;
  /** Its NOTIFY_SOCKET (--ready notify, --watchdog), named in spawn.env. */
  notify: NotifySocket | null;
  /** The watchdog period (--watchdog): WATCHDOG=1 must come within it; null: none. */
  watchdogMs: number | null;
}

/** What the driver needs of a generation; tests drive the supervisor with their own. */
export interface GenerationHandle {
  readonly number: number;
  readonly pid: number;
  /** When the spawn was asked for, and when it returned with the child exec'd (performance.now()). */
  readonly spawnAt: number;
  readonly execAt: number;
  readonly exit: ChildExit | undefined;
  /** The highest tree RSS sampled, or null when nothing was sampled. */
  readonly peakRssBytes: number | null;
  /** With --cgroup, once it has exited: the kernel's OOM killer killed a process of its cgroup. */
  readonly oomKilled?: boolean;
  /** The overrun judge's count of consecutive samples over the cap (overrun.ts). */
  samplesOver: number;
  /** The pids of its tree in the last sample (for attributing orphans, core/orphans.ts). */
  readonly lastTree: readonly number[];
  /** Takes an orphan of its tree (reparented to angel) as its own: counted in its memory, stopped with it. */
  adopt(pid: number): void;
  /** Starts watching: exit, samples, readiness. Reports only from here on. */
  begin(sink: GenerationSink): void;
  /** The signal to the tree, SIGCONT, and `deadline` after `killTimeoutMs`. */
  stop(signal: NodeJS.Signals, killTimeoutMs: number): void;
  kill(): void;
  /** Signals the child itself (not its tree); false once it has exited. */
  signal(signal: SignalLike): boolean;
  /** Stops every timer, the sampler and the probe. */
  dispose(): void;
}

export type StartGeneration = (spec: GenerationSpec) => GenerationHandle;

type Timer = 'ready' | 'deadline' | 'watchdog';

export class Generation implements GenerationHandle {
  readonly number: number;
  readonly spawnAt: number;
  readonly execAt: number;
  samplesOver = 0;
  readonly #child: ChildProcess;
  readonly #spec: GenerationSpec;
  readonly #cgroup: GenerationCgroup | null;
  #oomKills = 0;
  /** angel's own cgroup's OOM kill count when this generation began (no cgroup of its own). */
  #ownOomKills: number | null = null;
  oomKilled = false;
  #sampler: Sampler | null = null;
  #probe: ReadyProbe | null = null;
  #sink: GenerationSink | null = null;
  #adopted = new Set<number>();
  #lastTree: readonly number[] = [];
  #timers = new Map<Timer, NodeJS.Timeout>();
  #watchdogMs: number | null;
  #refused = false;
  /** The tree when a stop began: processes that left the process group are signalled by pid. */
  #stopPids: readonly number[] = [];
  #stopping = false;
  #armedMs = 0;
  #readyReported = false;

  /** Spawns the child; throws SpawnError (after closing the ready pipe) when it cannot be started. */
  static start(spec: GenerationSpec): Generation {
    const spawnAt = performance.now();
    try {
      const generation = new Generation(spec, spawnChild(spec.cgroup ? { ...spec.spawn, cgroup: spec.cgroup.spawnWith } : spec.spawn), spawnAt);
      letChildRun();
      return generation;
    } catch (error) {
      if (spec.readyPipe) closeReadyPipe(spec.readyPipe);
      spec.cgroup?.release();
      spec.notify?.close();
      throw error;
    } finally {
      spec.cgroup?.spawned();
    }
  }

  private constructor(spec: GenerationSpec, child: ChildProcess, spawnAt: number) {
    this.number = spec.number;
    this.spawnAt = spawnAt;
    this.execAt = performance.now();
    this.#spec = spec;
    this.#child = child;
    this.#cgroup = spec.cgroup;
    this.#watchdogMs = spec.watchdogMs;
  }

  get pid(): number {
    return this.#child.pid;
  }

  get exit(): ChildExit | undefined {
    return this.#child.exit;
  }

  get lastTree(): readonly number[] {
    return this.#lastTree;
  }

  adopt(pid: number): void {
    this.#adopted.add(pid);
    // one that is already over takes its orphans with it at once
    if (this.exit) this.kill();
  }

  get peakRssBytes(): number | null {
    return this.#sampler?.peakRssBytes ?? null;
  }

  begin(sink: GenerationSink): void {
    const spec = this.#spec;
    this.#sink = sink;
    if (!this.#cgroup && spec.own) this.#ownOomKills = spec.own.oomKills();
    void this.#child.exited.then((exit) => {
      const at = performance.now();
      // the kernel's OOM killer: in the generation's cgroup, or (without one) a SIGKILL while angel's own cgroup
      // counted a kill
      this.oomKilled = this.#oomKills > 0 || this.#readOomKills() > 0
        || (!this.#cgroup && exit.signal === 'SIGKILL' && this.#ownOomKills !== null && (spec.own?.oomKills() ?? 0) > this.#ownOomKills);
      this.dispose();
      // whatever is left of its process group (its cgroup) goes with it, so no orphan outlives a generation
      this.kill();
      this.#cgroup?.release();
      sink.exited(this, exit, at);
    });
    spec.notify?.watch((text, pid, _uid, truncated) => this.#onNotify(text, pid, truncated));
    // a start-up is judged by --ready-timeout; the watchdog from readiness (exec here) or the first ping on
    if (spec.ready.kind === 'exec') this.#armWatchdog();
    const cgroup = this.#cgroup;
    const sampling = spec.sampling;
    if (sampling !== null) {
      this.#sampler = new Sampler(this.pid, this.#delayOf(sampling), (sample) => {
        this.#lastTree = sample.pids;
        sink.sample(this, sample);
      }, this.#adopted, this.#sourceOf(sampling));
      this.#sampler.start();
    }
    // the kernel's notices: a look at the working set at once, and its OOM kills
    cgroup?.watch(() => {
      this.#sampler?.sampleNow();
      const kills = this.#readOomKills();
      if (kills > this.#oomKills) {
        this.#oomKills = kills;
        sink.oomKill(this);
      }
    });
    if (spec.ready.kind === 'exec') {
      // exec'd is started, and spawnChild confirmed it at execAt; no need to wait for a tick
      sink.ready(this, this.execAt);
      return;
    }
    this.#arm('ready', spec.readyTimeoutMs, () => sink.readyTimeout(this));
    // with notify, READY=1 on its socket is the probe (#onNotify)
    if (spec.ready.kind !== 'notify') this.#probe = probeReady(spec.ready, spec.readyPipe, () => this.#becameReady());
  }

  /** The tree by default; with --cgroup the cgroup's figure, every process in it (adopted orphans too); in
   * container mode angel's own cgroup's, one read whatever the tree. */
  #sourceOf(sampling: Sampling): (() => TreeSample) | undefined {
    const cgroup = this.#cgroup;
    if (sampling.mode === 'cgroup' && cgroup) {
      return () => {
        const reading = cgroup.read();
        return { pids: reading.pids, rssBytes: reading.figureBytes };
      };
    }
    const own = sampling.own;
    if (sampling.mode === 'container' && own) return () => ({ pids: this.exit ? [] : [this.pid], rssBytes: own.figureBytes() });
    return undefined;
  }

  /** The tree every --sample-interval; a cgroup's figure at the pace its mode and headroom set (core/memory.ts). */
  #delayOf(sampling: Sampling): (sample: TreeSample, now: number) => number {
    if (sampling.mode === 'tree') return () => sampling.pace.maxMs;
    let state: PaceState | null = null;
    return (sample, now) => {
      const next = delayAfter(sampling.mode, sampling.pace, sampling.capBytes(), sample.rssBytes, now, state);
      state = next.state;
      return next.delayMs;
    };
  }

  #becameReady(): void {
    if (this.#readyReported) return; // READY=1 again (after a RELOADING=1 of its own) is no second start
    this.#readyReported = true;
    this.#clear('ready');
    if (!this.#timers.has('watchdog')) this.#armWatchdog();
    if (!this.exit) this.#sink?.ready(this, performance.now());
  }

  /** A datagram on its socket: taken only from the child or its descendants (the kernel vouches for the pid). */
  #onNotify(text: string, pid: number, truncated: boolean): void {
    const sink = this.#sink;
    if (!sink || this.exit) return;
    const message = truncated ? null : parseNotify(text);
    const why = pid === 0 ? 'no sender credentials' : pid !== this.pid && !inTree(this.pid, pid) ? `pid ${pid} is not of generation ${this.number}'s tree`
      : message === null ? (truncated ? 'longer than 4096 bytes' : 'a NUL byte') : null;
    if (why !== null || message === null) {
      if (!this.#refused) sink.refused(this, `NOTIFY_SOCKET: a message was ignored (${why}); further ones are ignored silently`);
      this.#refused = true;
      return;
    }
    if (message.watchdogMs !== null && this.#watchdogMs !== null) this.#watchdogMs = message.watchdogMs;
    if (message.watchdog === 'ping' || message.watchdogMs !== null) this.#armWatchdog();
    sink.notified(this, message);
    if (message.watchdog === 'trigger') {
      this.#clear('watchdog');
      sink.watchdog(this, true);
    }
    if (message.ready && this.#spec.ready.kind === 'notify') this.#becameReady();
  }

  /** From readiness on, each WATCHDOG=1 starts the period again (sd_watchdog_enabled(3)). */
  #armWatchdog(): void {
    if (this.#watchdogMs === null || this.exit || this.#stopping) return;
    this.#arm('watchdog', this.#watchdogMs, () => this.#sink?.watchdog(this, false));
  }

  stop(signal: NodeJS.Signals, killTimeoutMs: number): void {
    if (this.exit) return;
    // a child being stopped is judged by the kill deadline, not its watchdog
    this.#stopping = true;
    this.#clear('watchdog');
    if (!this.#cgroup) this.#stopPids = treePids(this.pid, this.#adopted).slice(1);
    this.#signalTree(signal);
    if (signal !== 'SIGKILL' && signal !== 'SIGCONT') this.#signalTree('SIGCONT');
    this.#arm('deadline', killTimeoutMs, () => this.#sink?.deadline(this));
  }

  kill(): void {
    if (this.#cgroup) this.#cgroup.kill();
    else this.#signalTree('SIGKILL');
  }

  signal(signal: SignalLike): boolean {
    return this.#child.signal(signal);
  }

  dispose(): void {
    this.#sampler?.stop();
    this.#cgroup?.unwatch();
    this.#probe?.cancel();
    this.#probe = null;
    this.#spec.notify?.close();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #arm(timer: Timer, ms: number, fire: () => void): void {
    const armed = this.#timers.get(timer);
    // the watchdog is re-armed on every ping: the same timer again, not a new one
    if (armed && timer === 'watchdog' && this.#armedMs === ms) {
      armed.refresh();
      return;
    }
    this.#clear(timer);
    if (timer === 'watchdog') this.#armedMs = ms;
    this.#timers.set(timer, setTimeout(() => {
      this.#timers.delete(timer);
      fire();
    }, ms));
  }

  #clear(timer: Timer): void {
    const armed = this.#timers.get(timer);
    if (armed) clearTimeout(armed);
    this.#timers.delete(timer);
  }

  #readOomKills(): number {
    try {
      return this.#cgroup?.oomKills() ?? 0;
    } catch {
      return 0;
    }
  }

  /** The process group, and every process of the tree that left it (some daemonize into a group of their own);
   * with --cgroup, every process in the cgroup, whatever its parentage. */
  #signalTree(signal: NodeJS.Signals): void {
    const number = signalNumber(signal);
    if (this.#cgroup) {
      this.#cgroup.signalAll(number);
      return;
    }
    this.#child.signalGroup(number);
    // the common end: the first process exited, nothing left its group and no orphan was adopted
    if (this.exit && this.#stopPids.length === 0 && this.#adopted.size === 0) return;
    // once the first process is gone (its pid may be another's by now) the tree is found through its orphans
    const [first, ...rest] = this.#adopted;
    const live = !this.exit ? treePids(this.pid, this.#adopted).slice(1) : first === undefined ? [] : treePids(first, rest);
    for (const pid of new Set([...this.#stopPids, ...live, ...this.#adopted])) {
      try {
        process.kill(pid, number);
      } catch {
        // ESRCH: it ended on its own meanwhile
      }
    }
  }
}

/** The shell's convention: the code, or 128 + the signal number. */
export function statusOf(exit: ChildExit): number {
  return exit.code ?? 128 + (exit.signal ? signalNumber(exit.signal) : 0);
}

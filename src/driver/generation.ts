// One generation of the child: its process and the family it starts (kernel/family.ts, or its cgroup with
// --cgroup), its sampler, its readiness probe, its NOTIFY_SOCKET and its three timers (the readiness deadline,
// the kill deadline and the watchdog), each armed and cleared here and nowhere else. It reports what happens to
// it and does what it is told (stop, kill); what any of it means is core's: the lifecycle's, the notify rules',
// the stop's (core/stopping.ts). A generation is over when its whole family is gone: the end of its first
// process is reported at once (a restart does not wait), and what is left of it is stopped as it would have
// been, SIGKILL coming at the deadline.
import { delayAfter, type Pace, type PaceState, type WatchMode } from '../core/memory.js';
import { parseNotify, refusalOf, watchdogAfter } from '../core/notify.js';
import type { NotifyMessage } from '../core/notify.js';
import type { ReadyMode } from '../core/readiness.js';
import { signalNumber, type SignalLike } from '../core/signames.js';
import { stopSignals } from '../core/stopping.js';
import { now } from '../kernel/clock.js';
import { ProcessFamily } from '../kernel/family.js';
import type { GenerationCgroup } from '../kernel/generationcgroup.js';
import type { NotifySocket } from '../kernel/notify.js';
import type { OwnMemory, OwnMemoryLookup } from '../kernel/ownmemory.js';
import { statFields, type TreeSample } from '../kernel/proctree.js';
import { closeReadyPipe, probeReady, type ReadyPipe, type ReadyProbe } from '../kernel/ready.js';
import { Sampler } from '../kernel/sampler.js';
import { letChildRun, type ChildExit, type ChildProcess, type PreparedSpawn, type StartOptions } from '../kernel/spawn.js';

/** What a generation reports, each with itself as the first argument. */
export interface GenerationSink {
  ready(generation: GenerationHandle, readyAt: number): void;
  sample(generation: GenerationHandle, sample: TreeSample): void;
  readyTimeout(generation: GenerationHandle): void;
  deadline(generation: GenerationHandle): void;
  /** It missed its watchdog period, or asked to be treated as hung (WATCHDOG=trigger: `triggered`). */
  watchdog(generation: GenerationHandle, triggered: boolean): void;
  /** A message from its processes on its NOTIFY_SOCKET. */
  notified(generation: GenerationHandle, message: NotifyMessage): void;
  /** A datagram on its NOTIFY_SOCKET that was not taken, and why (once per generation: a flood is one line). */
  refused(generation: GenerationHandle, why: string): void;
  /** Its first process ended. */
  exited(generation: GenerationHandle, exit: ChildExit, at: number): void;
  /** Every process of it is gone: it is over. */
  gone(generation: GenerationHandle): void;
  /** The kernel's OOM killer killed a process of the generation's cgroup (--cgroup). */
  oomKill(generation: GenerationHandle): void;
  /** Orphans reparented to angel are looked for and attributed now (a sender it does not know yet may be one). */
  adoptNow(): void;
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
  /** The launch's program, prepared once for all its generations. */
  program: PreparedSpawn;
  /** What this generation starts it with: its environment, fds and cgroup. */
  start: StartOptions;
  ready: ReadyMode;
  /** The pipe of `--ready fd`, whose write end is in start.fds. */
  readyPipe: ReadyPipe | null;
  readyTimeoutMs: number;
  /** How its memory is sampled; null: no --max-mem, no sampling. */
  sampling: Sampling | null;
  /** --cgroup: the generation's own cgroup, made for it; the child starts in it, and it goes with the generation. */
  cgroup: GenerationCgroup | null;
  /** angel's own memory cgroup: without a cgroup of its own, a generation's SIGKILL while its OOM kill count
   * moved was the kernel's OOM killer. */
  own: OwnMemoryLookup | null;
  /** Its NOTIFY_SOCKET (--ready notify, --watchdog), named in start.env. */
  notify: NotifySocket | null;
  /** The watchdog period (--watchdog): WATCHDOG=1 must come within it; null: none. */
  watchdogMs: number | null;
  /** The stop's grace before SIGKILL (--kill-timeout), for what is left when its first process ends. */
  killTimeoutMs: number;
  /** The signal that stops it (--stop-signal). */
  stopSignal: NodeJS.Signals;
}

/** What the driver needs of a generation; tests drive the supervisor with their own. */
export interface GenerationHandle {
  readonly number: number;
  readonly pid: number;
  /** When the spawn was asked for, and when the child called execve, as it read the clock itself (kernel/clock.ts). */
  readonly spawnAt: number;
  readonly execAt: number;
  /** When it counted as ready, once it did. */
  readonly readyAt: number | undefined;
  /** When its first process started, in clock ticks since boot (for attributing orphans); null if unknown. */
  readonly startTick: number | null;
  readonly exit: ChildExit | undefined;
  /** The highest figure sampled (tree RSS or a cgroup's), or null when nothing was sampled. */
  readonly peakRssBytes: number | null;
  /** Once it has exited: the kernel's OOM killer killed a process of it. */
  readonly oomKilled?: boolean;
  /** The overrun judge's count of consecutive samples over the cap (overrun.ts). */
  samplesOver: number;
  /** The pids of its tree in the last sample (for attributing orphans, core/orphans.ts). */
  readonly lastTree: readonly number[];
  /** Takes an orphan of it (reparented to angel) as its own: counted in its memory, stopped with it; one that
   * came after its first process ended is stopped at once, as what is left of it is. */
  adopt(pid: number): void;
  /** Starts watching: exit, samples, readiness. Reports only from here on. */
  begin(sink: GenerationSink): void;
  /** The stop signal to every process of it, SIGCONT, and `deadline` after `killTimeoutMs`. */
  stop(signal: NodeJS.Signals, killTimeoutMs: number): void;
  kill(): void;
  /** Signals the child itself (not its tree); false once it has exited. */
  signal(signal: SignalLike): boolean;
  /** Stops every timer, the sampler and the probe. */
  dispose(): void;
}

export type StartGeneration = (spec: GenerationSpec) => GenerationHandle;

type Timer = 'ready' | 'deadline' | 'watchdog' | 'gone';

/** How often a generation whose first process ended looks whether what is left of it is gone. */
const GONE_POLL_MS = 20;

export class Generation implements GenerationHandle {
  readonly number: number;
  readonly spawnAt: number;
  readonly execAt: number;
  readyAt: number | undefined;
  startTick: number | null = null;
  samplesOver = 0;
  readonly #child: ChildProcess;
  readonly #spec: GenerationSpec;
  readonly #cgroup: GenerationCgroup | null;
  readonly #family: ProcessFamily;
  #oomKills = 0;
  /** angel's own cgroup's OOM kill count when this generation began (no cgroup of its own). */
  #ownOomKills: number | null = null;
  oomKilled = false;
  #sampler: Sampler | null = null;
  #probe: ReadyProbe | null = null;
  #sink: GenerationSink | null = null;
  #lastTree: readonly number[] = [];
  #timers = new Map<Timer, NodeJS.Timeout>();
  #watchdogMs: number | null;
  #refused = false;
  #stopping = false;
  #armedMs = 0;
  #over = false;

  /** Spawns the child; throws SpawnError (after closing the ready pipe) when it cannot be started. */
  static start(spec: GenerationSpec): Generation {
    const spawnAt = now();
    try {
      const generation = new Generation(spec, spec.program.start(spec.start), spawnAt);
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
    // the child's own reading, taken just before its execve: angel's, after the spawn returned, can come
    // milliseconds late on a loaded machine, with the program already running
    this.execAt = child.execAt;
    this.#spec = spec;
    this.#child = child;
    this.#cgroup = spec.cgroup;
    this.#family = new ProcessFamily(child.pid);
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
    this.#family.adopted.add(pid);
    // a generation being stopped stops an orphan found meanwhile too, and it gets the same grace
    if (this.#stopping && !this.#over && !this.#cgroup) {
      for (const each of stopSignals(this.#spec.stopSignal)) this.#family.signalTree(pid, signalNumber(each));
    }
  }

  get peakRssBytes(): number | null {
    return this.#sampler?.peakRssBytes ?? null;
  }

  begin(sink: GenerationSink): void {
    const spec = this.#spec;
    this.#sink = sink;
    // off the child's critical path (after its exec and the yield): what orphans are attributed by
    const startTick = Number(statFields(this.pid)?.[19]);
    this.startTick = Number.isFinite(startTick) ? startTick : null;
    const own = this.#cgroup ? null : (spec.own?.get() ?? null);
    if (own) this.#ownOomKills = own.oomKills();
    void this.#child.exited.then((exit) => this.#ended(exit, now()));
    spec.notify?.watch((text, pid, _uid, truncated) => this.#onNotify(text, pid, truncated));
    // a start-up is judged by --ready-timeout; the watchdog from readiness (exec here) or the first ping on
    if (spec.ready.kind === 'exec') this.#armWatchdog();
    const sampling = spec.sampling;
    if (sampling !== null) {
      this.#sampler = new Sampler(this.pid, this.#delayOf(sampling), (sample) => {
        this.#lastTree = sample.pids;
        sink.sample(this, sample);
      }, this.#family.adopted, this.#sourceOf(sampling));
      this.#sampler.start();
    }
    // the kernel's notices: a look at the figure at once, and its OOM kills
    this.#cgroup?.watch(() => {
      this.#sampler?.sampleNow();
      const kills = this.#readOomKills();
      if (kills > this.#oomKills) {
        this.#oomKills = kills;
        sink.oomKill(this);
      }
    });
    if (spec.ready.kind === 'exec') {
      // exec'd is started (the spawn returned once the exec was confirmed), from execAt; no need to wait for a tick
      this.readyAt = this.execAt;
      sink.ready(this, this.execAt);
      return;
    }
    this.#arm('ready', spec.readyTimeoutMs, () => sink.readyTimeout(this));
    // with notify, READY=1 on its socket is the probe (#onNotify)
    if (spec.ready.kind !== 'notify') this.#probe = probeReady(spec.ready, spec.readyPipe, () => this.#becameReady());
  }

  /** Its first process ended: reported at once; what is left of it is stopped as it would have been (its stop
   * goes on, or one begins), and the generation is over once nothing of it is left. */
  #ended(exit: ChildExit, at: number): void {
    const sink = this.#sink as GenerationSink;
    // the kernel's OOM killer: in the generation's cgroup, or (without one) a SIGKILL while angel's own cgroup
    // counted a kill
    this.oomKilled = this.#oomKills > 0 || this.#readOomKills() > 0
      || (!this.#cgroup && exit.signal === 'SIGKILL' && this.#ownOomKills !== null && (this.#spec.own?.get()?.oomKills() ?? 0) > this.#ownOomKills);
    this.#family.leaderEnded();
    this.#sampler?.stop();
    this.#cgroup?.unwatch();
    this.#probe?.cancel();
    this.#probe = null;
    this.#spec.notify?.close();
    for (const timer of ['ready', 'watchdog'] as const) this.#clear(timer);
    sink.exited(this, exit, at);
    // after the restart it may have caused: its children were reparented to angel as it ended, and the daemons it
    // left before are angel's too; found now, they are what is left of it
    sink.adoptNow();
    if (!this.#left()) return this.#gone();
    if (!this.#stopping) this.stop(this.#spec.stopSignal, this.#spec.killTimeoutMs);
    this.#watchGone();
  }

  /** Whether any process of the generation is left. */
  #left(): boolean {
    return this.#cgroup ? this.#cgroup.read().pids.length > 0 : this.#family.alive();
  }

  #watchGone(): void {
    this.#arm('gone', GONE_POLL_MS, () => (this.#left() ? this.#watchGone() : this.#gone()));
  }

  #gone(): void {
    if (this.#over) return;
    this.#over = true;
    this.dispose();
    this.#cgroup?.release();
    this.#sink?.gone(this);
  }

  #becameReady(): void {
    if (this.readyAt !== undefined) return; // READY=1 again (after a RELOADING=1 of its own) is no second start
    this.readyAt = now();
    this.#clear('ready');
    if (!this.#timers.has('watchdog')) this.#armWatchdog();
    if (!this.exit) this.#sink?.ready(this, this.readyAt);
  }

  /** Whether a process is one of this generation's, by the one rule of membership (core/orphans.ts): in its
   * cgroup, or its family; a daemon not adopted yet is looked for first. */
  #owns(pid: number): boolean {
    if (this.#cgroup) return this.#cgroup.read().pids.includes(pid);
    if (this.#family.owns(pid)) return true;
    this.#sink?.adoptNow();
    return this.#family.adopted.has(pid) || this.#family.owns(pid);
  }

  /** A datagram on its socket: taken only from a process of its own (the kernel vouches for the pid). */
  #onNotify(text: string, pid: number, truncated: boolean): void {
    const sink = this.#sink;
    if (!sink || this.exit) return;
    const message = truncated ? null : parseNotify(text);
    const why = refusalOf({ pid, owned: pid !== 0 && this.#owns(pid) }, truncated, message, this.number);
    if (why !== null || message === null) {
      if (!this.#refused) sink.refused(this, `NOTIFY_SOCKET: a message was ignored (${why}); further ones are ignored silently`);
      this.#refused = true;
      return;
    }
    const watchdog = watchdogAfter(message, this.#watchdogMs, this.#stopping);
    this.#watchdogMs = watchdog.periodMs;
    if (watchdog.rearm) this.#armWatchdog();
    sink.notified(this, message);
    if (watchdog.hang) {
      this.#clear('watchdog');
      sink.watchdog(this, true);
    }
    if (message.ready && this.#spec.ready.kind === 'notify') this.#becameReady();
  }

  #armWatchdog(): void {
    if (this.#watchdogMs === null || this.exit || this.#stopping) return;
    this.#arm('watchdog', this.#watchdogMs, () => this.#sink?.watchdog(this, false));
  }

  /** The tree by default; with --cgroup the cgroup's figure, every process in it (adopted orphans too); in
   * container mode angel's own cgroup's, one read whatever the tree. */
  #sourceOf(sampling: Sampling): (() => TreeSample) | undefined {
    const cgroup = this.#cgroup;
    if (sampling.mode === 'cgroup' && cgroup) {
      return () => {
        const reading = cgroup.read();
        // its first process lives until its pidfd says it ended: a cgroup.procs read empty meanwhile (it failed)
        // must not end the sampling, which an empty tree does
        const pids = reading.pids.length === 0 && !this.exit ? [this.pid] : reading.pids;
        return { pids, rssBytes: reading.figureBytes };
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

  stop(signal: NodeJS.Signals, killTimeoutMs: number): void {
    if (this.#over) return;
    // a child being stopped is judged by the kill deadline, not its watchdog
    this.#stopping = true;
    this.#clear('watchdog');
    if (this.#cgroup) {
      // its cgroup holds all of it, orphans included: one read of cgroup.procs, the signals, and only then the
      // bookkeeping (an overrun's stop is on the clock of a program growing past its cap)
      this.#cgroup.signalAll(stopSignals(signal).map(signalNumber));
      this.#sink?.adoptNow();
    } else {
      // every orphan of it adopted first: all of the generation gets the signal, and the grace
      this.#sink?.adoptNow();
      this.#family.beginStop();
      for (const each of stopSignals(signal)) this.#family.signal(signalNumber(each));
    }
    this.#arm('deadline', killTimeoutMs, () => {
      // the deadline is the lifecycle's to act on while the first process lives; after, what is left is killed
      if (this.exit) this.kill();
      else this.#sink?.deadline(this);
    });
  }

  kill(): void {
    if (this.#cgroup) this.#cgroup.kill();
    else this.#family.signal(signalNumber('SIGKILL'));
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
}

/** The shell's convention: the code, or 128 + the signal number. */
export function statusOf(exit: ChildExit): number {
  return exit.code ?? 128 + (exit.signal ? signalNumber(exit.signal) : 0);
}
